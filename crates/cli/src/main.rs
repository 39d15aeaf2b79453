//! `wxpay`: the operator's command for WeChat Pay profit-sharing and refund queries.
//!
//! This version runs offline: `--dry-run` prints the exact request an operation would send
//! (signed, for API v3), and `--decode` parses an answer from a file or standard input (and
//! verifies an API v3 answer's signature when keys are given). Every rule comes from
//! `wxpay-protocol`; this crate only maps flags to its types, reads key files, the clock and the
//! operating system's randomness, and prints the results.

mod args;
mod clock;
mod credentials;
mod decode;
mod demo;
mod exit;
mod nonce;
mod render;
mod request;
mod run;
mod security;
mod table;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::exit::{CliError, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.group.json();
    let result = run::run(&cli.group).and_then(|report| {
        if let Some(warning) = report.warning {
            // A warning that cannot be written is not worth failing the run for.
            let _ = writeln!(io::stderr(), "{warning}");
        }
        io::stdout().lock().write_all(report.stdout.as_bytes()).map_err(CliError::Output)
    });
    match result {
        Ok(()) => Exit::Ok.into(),
        Err(err) => {
            report_error(&err, json);
            err.exit().into()
        }
    }
}

/// Prints `err`: as one JSON object on standard output with `--json` (falling back to standard
/// error if that fails), else on standard error. Nothing more can be done if writing fails.
fn report_error(err: &CliError, json: bool) {
    if json
        && let Ok(line) = render::json_line(&render::error_json(err))
        && io::stdout().lock().write_all(line.as_bytes()).is_ok()
    {
        return;
    }
    let _ = io::stderr().lock().write_all(render::error_text(err).as_bytes());
}
