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
mod input;
mod listen;
mod log;
mod ops;
mod render;
mod request;
mod run;
mod security;
mod send;
mod table;
mod times;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::FromArgMatches;

use crate::args::Cli;
use crate::exit::CliError;

fn main() -> ExitCode {
    let parsed = args::command().try_get_matches().and_then(|matches| Cli::from_arg_matches(&matches));
    let mut cli = match parsed {
        Ok(cli) => cli,
        // clap's message names no flag: name it.
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let args: Vec<OsString> = std::env::args_os().collect();
            let err = CliError::NotUtf8 { flag: args::not_utf8_flag(&args) };
            report_error(&err, args.iter().any(|a| a == "--json"));
            return err.exit().into();
        }
        Err(e) => return usage_error(&e),
    };
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

/// Prints clap's error (or help, or version) and exits as clap would, with every argument that
/// looks like key material ([`wxpay_settings::looks_like_content`]) blotted out: clap quotes an
/// unexpected argument, which may be a PEM pasted without its flag.
fn usage_error(err: &clap::Error) -> ExitCode {
    const HIDDEN: &str = "<value not shown: it looks like key content>";
    let mut text = err.render().to_string();
    let secrets: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .filter(|arg| !arg.is_empty() && wxpay_settings::looks_like_content(std::path::Path::new(arg)))
        .collect();
    for arg in &secrets {
        // clap reads `-...=...` as a flag and its value, and quotes the part before the `=`.
        let before_eq = arg.split('=').next().unwrap_or_default();
        for quoted in [arg.as_str(), before_eq] {
            if !quoted.is_empty() {
                text = text.replace(quoted, HIDDEN);
            }
        }
    }
    // If any piece of such an argument is still there, clap quoted it some other way: say less.
    let leaks = secrets.iter().any(|arg| {
        let bytes = arg.as_bytes();
        bytes.len() >= 16 && bytes.windows(16).any(|w| std::str::from_utf8(w).is_ok_and(|w| text.contains(w)))
    });
    if leaks && err.use_stderr() {
        text = format!("error: invalid arguments ({HIDDEN})\n\nFor more information, try '--help'.\n");
    }
    let written = if err.use_stderr() {
        io::stderr().lock().write_all(text.as_bytes())
    } else {
        io::stdout().lock().write_all(text.as_bytes())
    };
    // Nothing more can be done if writing fails.
    let _ = written;
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
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
