//! Logs: `tracing` events and spans (the client's per-call `wxpay` span with the operation, the
//! attempt and the `Request-ID`) written on standard error by `tracing-subscriber`.
//!
//! The level comes from `-q` (errors), nothing (warnings), `-v` (each call, when it closes),
//! `-vv` (each attempt) or `-vvv` (everything), unless `RUST_LOG` is set, which then chooses
//! (`RUST_LOG=wxpay_protocol=debug`). Nothing here prints a request's headers or body: the
//! protocol logs operations, paths, statuses and ids, and the transports' dependencies log
//! connections, never headers (hyper-util); rustls logs through the `log` crate, which is not
//! forwarded.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// The filter of `-q`/`-v` when `RUST_LOG` is not set.
fn default_directive(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    }
}

/// Installs the subscriber for this run.
pub(crate) fn init(verbose: u8, quiet: bool) {
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty());
    let filter = match from_env {
        Some(directives) => EnvFilter::builder().parse_lossy(directives),
        None => EnvFilter::new(default_directive(verbose, quiet)),
    };
    // Spans are shown when they close (with their fields as they ended: the attempts made and
    // the last Request-ID), so that `-v` shows one line per call even when the call succeeded.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_span_events(FmtSpan::CLOSE)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_choose_the_level() {
        assert_eq!(default_directive(0, true), "error");
        assert_eq!(default_directive(0, false), "warn");
        assert_eq!(default_directive(1, false), "info");
        assert_eq!(default_directive(2, false), "debug");
        assert_eq!(default_directive(5, false), "trace");
    }
}
