//! `wxpay`: the operator's command for WeChat Pay profit-sharing and refund queries.
//!
//! Every operation runs in one of four modes: send (the default: through
//! `wxpay-transport-hyper`'s async client, to WeChat Pay, a configured endpoint or an embedded
//! sandbox), `--dry-run` (print the exact request, signed for API v3), `--decode` (parse an
//! answer from a file or standard input, verifying an API v3 answer's signature when keys are
//! given) and `--batch` (one request per row of a file, resumable). Every rule comes from
//! `wxpay-protocol`; this crate only maps flags, variables and config files to its types, reads
//! key files, the clock and the operating system's randomness, and prints the results.

mod args;
mod batch;
mod config;
mod credentials;
mod decode;
mod demo;
mod exit;
mod log;
mod ops;
mod render;
mod request;
mod run;
mod security;
mod send;
mod table;
mod times;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::FromArgMatches;

use crate::args::Cli;
use crate::exit::CliError;

fn main() -> ExitCode {
    let mut cli = Cli::from_arg_matches(&args::command().get_matches()).unwrap_or_else(|e| e.exit());
    log::init(cli.verbose, cli.quiet);
    let json = cli.group.json();
    let result = config::apply(&mut cli.group).and_then(|()| run::run(&cli.group)).and_then(|report| {
        if let Some(warning) = report.warning {
            // A warning that cannot be written is not worth failing the run for.
            let _ = writeln!(io::stderr(), "{warning}");
        }
        io::stdout().lock().write_all(report.stdout.as_bytes()).map_err(CliError::Output)?;
        Ok(report.exit)
    });
    match result {
        Ok(exit) => exit.into(),
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
