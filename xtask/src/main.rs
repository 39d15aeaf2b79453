//! `cargo xtask`: the project's automation, in Rust with std only so that it builds in seconds
//! (matklad's cargo-xtask pattern; the alias lives in `.cargo/config.toml`).
//!
//! ```text
//! cargo xtask ci                                   fmt, clippy, wasm, test, doc, packages: what CI runs
//! cargo xtask fuzz --smoke [--seconds N]           every fuzz target for N s (default 10)
//! cargo xtask fuzz --target T [--seconds N]        one fuzz target for N s (default 60)
//! cargo xtask bench-e2e [CALLS]                    load benchmark against the sandbox
//! cargo xtask bench-batch [ROWS...]                 wxpay --batch memory and speed by input size
//! cargo xtask help                                 this text
//! ```

mod bench;
mod ci;
mod cmd;
mod fuzz;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `cargo xtask help` prints.
const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  ci        run, in order, stopping at the first failure:
              cargo fmt --all -- --check
              cargo clippy --workspace --all-targets -- -D warnings
              cargo clippy -p wxpay-protocol --no-default-features --target wasm32-unknown-unknown -- -D warnings
              cargo build -p wxpay-protocol --no-default-features --target wasm32-unknown-unknown
              cargo test --workspace
              cargo test -p wxpay-protocol --no-default-features
              RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps
            then runs every example, and checks wxpay-protocol's dependency graph: no runtime,
            socket or ring crate, and without default features no aws-lc crate; then
              cargo package --workspace --allow-dirty
            (every crate packaged, the publishable ones built from their .crate alone), unpacks
            target/package/wxpay-protocol-<version>.crate under target/package/unpacked and runs
              CARGO_TARGET_DIR=target/package/unpacked-target cargo test --locked
            there, so that the published crate's tests pass from its own files; last, every fuzz
            target runs for 5 s when the nightly toolchain and cargo-fuzz are installed (skipped
            with a message otherwise)
  fuzz      run the cargo-fuzz targets of crates/protocol/fuzz and crates/cli/fuzz (needs nightly and cargo-fuzz)
              --smoke         run every target briefly and print a report (default 10 s each)
              --target T      run only target T (without --smoke: default 60 s)
              --seconds N     run each target for N seconds
              --install       install cargo-fuzz first if it is missing
            Each run writes new inputs to a fresh temporary corpus and only reads the checked-in
            corpus/<target>, so the repository is never modified; crashes land in
            crates/{protocol,cli}/fuzz/artifacts/<target>/.
  bench-batch [ROWS...]
            build wxpay, wxpay-sandbox and bench-batch in release mode and run `wxpay --batch`
            over inputs of ROWS rows (default 10000 100000 1000000): peak RSS, rows/s, v3 CPU
  bench-e2e [CALLS]
            build wxpay-sandbox and bench-e2e in release mode and run the load benchmark of
            the async client against a sandbox process on loopback (default 2000 calls);
            prints the table docs/performance.md reports
  help      print this text
";

/// Exit code for a command line that cannot be understood.
pub(crate) const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("", &[][..]),
    };
    match command {
        "ci" => ci::run(rest),
        "fuzz" => fuzz::run(rest),
        "bench-e2e" => bench::run(rest),
        "bench-batch" => bench::batch(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            ExitCode::from(USAGE_ERROR)
        }
        "" => usage_error("no command given"),
        other => usage_error(&format!("unknown command `{other}`")),
    }
}

/// Prints `message` and the usage to stderr; exits with [`USAGE_ERROR`].
pub(crate) fn usage_error(message: &str) -> ExitCode {
    eprintln!("xtask: {message}\n\n{USAGE}");
    ExitCode::from(USAGE_ERROR)
}

/// The root of the workspace (the parent of this crate's directory).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_path_buf()
}
