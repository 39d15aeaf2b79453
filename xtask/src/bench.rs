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
    build_and_run("bench-e2e", &["wxpay-sandbox", "wxpay-tests"], &["wxpay-sandbox"], &[calls])
}

/// `cargo xtask bench-batch [ROWS...]`: builds `wxpay`, the sandbox and the benchmark in release
/// mode, then runs `wxpay --batch` over each size (default 10k, 100k, 1M rows).
pub(crate) fn batch(args: &[String]) -> ExitCode {
    if let Some(bad) = args.iter().find(|a| a.parse::<u64>().is_err()) {
        return crate::usage_error(&format!("`bench-batch` takes numbers of rows, got `{bad}`"));
    }
    build_and_run("bench-batch", &["wxpay-cli", "wxpay-sandbox", "wxpay-tests"], &["wxpay", "wxpay-sandbox"], args)
}

/// Builds the binaries of `packages` in release mode, then runs `target/release/{bench}` with
/// the paths of the release `binaries` and then `args`.
fn build_and_run(bench: &str, packages: &[&str], binaries: &[&str], args: &[String]) -> ExitCode {
    let build = packages.iter().fold(Cmd::this_cargo().args(["build", "--release"]), |cmd, p| cmd.args(["-p", p]));
    let build = build.args(["--bins"]);
    println!("==> {build}");
    match build.status() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("xtask {bench}: the build exited with {status}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("xtask {bench}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let release = crate::workspace_root().join("target/release");
    let command = Cmd::new(&release.join(bench).to_string_lossy())
        .args(binaries.iter().map(|b| release.join(b).to_string_lossy().into_owned()).chain(args.iter().cloned()));
    println!("==> {command}");
    match command.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("xtask {bench}: the benchmark exited with {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask {bench}: {e}");
            ExitCode::FAILURE
        }
    }
}
