//! `cargo xtask bench-e2e`: the async client under load against a `wxpay-sandbox` process.

use std::process::ExitCode;

use crate::cmd::Cmd;

/// Builds the sandbox and the benchmark in release mode, then runs it.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let calls = match args {
        [] => "2000".to_owned(),
        [n] if n.parse::<u32>().is_ok() => n.clone(),
        _ => return crate::usage_error("`bench-e2e` takes one optional number of calls"),
    };
    let build = Cmd::this_cargo().args(["build", "--release", "-p", "wxpay-sandbox", "-p", "wxpay-tests", "--bins"]);
    println!("==> {build}");
    match build.status() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("xtask bench-e2e: the build exited with {status}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("xtask bench-e2e: {e}");
            return ExitCode::FAILURE;
        }
    }
    let root = crate::workspace_root();
    let sandbox = root.join("target/release/wxpay-sandbox");
    let bench = Cmd::new(&root.join("target/release/bench-e2e").to_string_lossy())
        .args([sandbox.to_string_lossy().into_owned(), calls]);
    println!("==> {bench}");
    match bench.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("xtask bench-e2e: the benchmark exited with {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask bench-e2e: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask bench-batch [ROWS...]`: builds `wxpay`, the sandbox and the benchmark in release
/// mode, then runs `wxpay --batch` over each size (default 10k, 100k, 1M rows).
pub(crate) fn batch(args: &[String]) -> ExitCode {
    if let Some(bad) = args.iter().find(|a| a.parse::<u64>().is_err()) {
        return crate::usage_error(&format!("`bench-batch` takes numbers of rows, got `{bad}`"));
    }
    let build = Cmd::this_cargo().args([
        "build",
        "--release",
        "-p",
        "wxpay-cli",
        "-p",
        "wxpay-sandbox",
        "-p",
        "wxpay-tests",
        "--bins",
    ]);
    println!("==> {build}");
    match build.status() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("xtask bench-batch: the build exited with {status}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("xtask bench-batch: {e}");
            return ExitCode::FAILURE;
        }
    }
    let release = crate::workspace_root().join("target/release");
    let bench = Cmd::new(&release.join("bench-batch").to_string_lossy()).args(
        [release.join("wxpay"), release.join("wxpay-sandbox")]
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .chain(args.iter().cloned()),
    );
    println!("==> {bench}");
    match bench.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("xtask bench-batch: the benchmark exited with {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask bench-batch: {e}");
            ExitCode::FAILURE
        }
    }
}
