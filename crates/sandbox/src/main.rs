//! `wxpay-sandbox`: a local WeChat Pay for tests and demos. See `docs/sandbox.md`.

use std::process::ExitCode;

use clap::Parser;
use wxpay_sandbox::cli::SandboxArgs;

/// A local WeChat Pay for the profit-sharing and refund queries (CloudPay and API v3).
#[derive(Debug, Parser)]
#[command(name = "wxpay-sandbox", version, about)]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.args.run_foreground().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprintln!("caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(2)
        }
    }
}
