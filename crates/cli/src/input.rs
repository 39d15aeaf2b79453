//! Reading what the operator gives the CLI, within size limits (issue 11): the `--decode`
//! input (a file, standard input, or `/dev/zero`: reading stops at the limit) and the `--batch`
//! file with its lines.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use wxpay_protocol::MAX_ANSWER_BYTES;

use crate::args::Input;
use crate::exit::CliError;

/// The longest `--decode` input: a raw HTTP response whose body is at most the core's
/// [`MAX_ANSWER_BYTES`], with room for its head and chunked framing (1 MiB).
pub(crate) const MAX_DECODE_BYTES: usize = 4 * MAX_ANSWER_BYTES;

/// The longest `--batch` file: 64 MiB (a million rows of ids).
pub(crate) const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// The longest line of a `--batch` file: 64 KiB (a row is a few ids).
pub(crate) const MAX_BATCH_LINE: usize = 64 * 1024;

/// Reads all of `reader`, or an `InvalidData` error once it passes `limit` bytes (at most
/// `limit + 1` bytes are read and held).
fn read_at_most(reader: impl Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("it is longer than {limit} bytes")));
    }
    Ok(bytes)
}

/// Reads the whole `--decode` input, at most [`MAX_DECODE_BYTES`].
pub(crate) fn decode_input(input: &Input) -> Result<Vec<u8>, CliError> {
    let (name, result) = match input {
        Input::Stdin => ("standard input".to_owned(), read_at_most(io::stdin().lock(), MAX_DECODE_BYTES)),
        Input::File(path) => {
            (path.display().to_string(), File::open(path).and_then(|f| read_at_most(f, MAX_DECODE_BYTES)))
        }
    };
    result.map_err(|source| CliError::ReadInput { input: name, source })
}

/// Reads the whole batch file (`-` for standard input), at most [`MAX_BATCH_BYTES`], with no
/// line longer than [`MAX_BATCH_LINE`].
pub(crate) fn batch_file(path: &Path) -> Result<Vec<u8>, CliError> {
    let file = path.display().to_string();
    let result = if path.as_os_str() == "-" {
        read_at_most(io::stdin().lock(), MAX_BATCH_BYTES)
    } else {
        File::open(path).and_then(|f| read_at_most(f, MAX_BATCH_BYTES))
    };
    let bytes = result.map_err(|e| CliError::Batch { file: file.clone(), reason: None, source: Some(e) })?;
    if let Some((n, _)) = bytes.split(|&b| b == b'\n').enumerate().find(|(_, line)| line.len() > MAX_BATCH_LINE) {
        let reason = format!("line {} is longer than {MAX_BATCH_LINE} bytes", n + 1);
        return Err(CliError::Batch { file, reason: Some(reason), source: None });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_reader_stops_at_the_limit() {
        let err = read_at_most(io::repeat(0), 1000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(read_at_most(&b"12345"[..], 5).unwrap(), b"12345");
    }
}
