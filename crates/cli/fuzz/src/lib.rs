//! The pure pieces of the `wxpay` CLI, compiled from its own source files (the CLI is a binary
//! crate, so the fuzz targets cannot depend on it): the raw HTTP reader of `--decode`
//! (`src/decode.rs`) and the table builder with its terminal escaping (`src/table.rs`).
#![allow(dead_code, unreachable_pub)]

#[path = "../../src/decode.rs"]
pub mod decode;
#[path = "../../src/table.rs"]
pub mod table;

/// `decode::response` on any input: never panics, and a body it returns is no longer than the
/// input (it allocates in proportion to what it was given).
pub fn fuzz_raw_http(data: &[u8]) {
    if let Ok(response) = decode::response(data.to_vec()) {
        assert!(response.body().len() <= data.len());
    }
}

/// A table of arbitrary values: as many lines as rows, no control character but the newlines.
pub fn fuzz_table(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let cells: Vec<&str> = text.split('\u{1F}').collect();
    let mut grid = table::Grid::new(&["a", "b"]);
    for pair in cells.chunks(2) {
        grid.push(pair.iter().map(|c| (*c).to_owned()).collect());
    }
    let mut t = table::Table::default();
    for cell in &cells {
        t.row("key", cell);
    }
    t.grid("grid", cells.len(), grid);
    let out = t.to_string();
    let expected = cells.len() + 1 + 1 + cells.len().div_ceil(2);
    assert_eq!(out.lines().count(), expected, "{out:?}");
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    let escaped = table::escape_bytes(data);
    assert!(!escaped.chars().any(char::is_control));
}
