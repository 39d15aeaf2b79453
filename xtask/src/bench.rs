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
