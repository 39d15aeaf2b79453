//! `cargo xtask ci`: the one command CI and people run ("if `cargo xtask ci` passes locally, CI
//! will be green").

use std::process::ExitCode;
use std::time::Instant;

use crate::cmd::Cmd;

/// One step of the pipeline.
#[derive(Debug)]
struct Step {
    /// A short name for the report.
    name: &'static str,
    /// The cargo arguments.
    args: &'static [&'static str],
    /// Extra environment.
    env: &'static [(&'static str, &'static str)],
}

/// The steps, in order; the first failure stops the run.
const STEPS: &[Step] = &[
    Step { name: "fmt", args: &["fmt", "--all", "--", "--check"], env: &[] },
    Step { name: "clippy", args: &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], env: &[] },
    Step { name: "test", args: &["test", "--workspace"], env: &[] },
    Step { name: "doc", args: &["doc", "--workspace", "--no-deps"], env: &[("RUSTDOCFLAGS", "-D warnings")] },
];

/// Crates that must not be in `wxpay-protocol`'s normal dependency graph: it is sans-IO
/// (DESIGN.md 2: no tokio, hyper, ureq or socket).
const FORBIDDEN_IN_PROTOCOL: &[&str] = &["tokio", "hyper", "ureq", "mio", "socket2", "ring"];

/// The crate names in a `cargo tree --prefix none` listing that are forbidden.
fn forbidden(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| FORBIDDEN_IN_PROTOCOL.iter().any(|f| name == f || name.starts_with(&format!("{f}-"))))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Checks `cargo tree -p wxpay-protocol -e normal`.
fn check_protocol_tree() -> Result<(), String> {
    let cmd = Cmd::this_cargo().args(["tree", "-p", "wxpay-protocol", "-e", "normal", "--prefix", "none"]);
    println!("\n==> protocol graph: {cmd}");
    let output = cmd.output()?;
    if !output.status.success() {
        return Err(format!("{cmd} exited with {}", output.status));
    }
    let found = forbidden(&String::from_utf8_lossy(&output.stdout));
    if found.is_empty() {
        println!("no {} in wxpay-protocol's dependencies", FORBIDDEN_IN_PROTOCOL.join(", "));
        Ok(())
    } else {
        Err(format!("wxpay-protocol depends on {}", found.join(", ")))
    }
}

/// The command of a step.
fn command(step: &Step) -> Cmd {
    step.env.iter().fold(Cmd::this_cargo().args(step.args.iter().copied()), |cmd, (key, value)| cmd.env(key, value))
}

/// Runs every step; exits 1 at the first failure, naming the step.
pub(crate) fn run(args: &[String]) -> ExitCode {
    if let Some(extra) = args.first() {
        return crate::usage_error(&format!("`ci` takes no arguments, got `{extra}`"));
    }
    let started = Instant::now();
    for (i, step) in STEPS.iter().enumerate() {
        let cmd = command(step);
        println!("\n==> [{}/{}] {}: {cmd}", i + 1, STEPS.len(), step.name);
        let outcome = match cmd.status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("exited with {status}")),
            Err(e) => Err(e),
        };
        if let Err(why) = outcome {
            eprintln!("\nxtask ci: step {} `{}` failed ({why}): {cmd}", i + 1, step.name);
            return ExitCode::FAILURE;
        }
    }
    if let Err(why) = check_protocol_tree() {
        eprintln!("\nxtask ci: the protocol dependency check failed: {why}");
        return ExitCode::FAILURE;
    }
    println!(
        "\nxtask ci: all {} steps and the protocol dependency check passed in {:.0?}",
        STEPS.len(),
        started.elapsed()
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_crates_are_found_by_name() {
        let tree = "wxpay-protocol v0.1.0 (/w)\nhttp v1.5.0\ntokio v1.0.0\ntokio-util v0.7.0\nhyperlocal v0.1.0\nsocket2 v0.5.0 (*)\n";
        assert_eq!(forbidden(tree), ["socket2", "tokio", "tokio-util"]);
        assert!(forbidden("wxpay-protocol v0.1.0\nhttp v1\n").is_empty());
    }

    #[test]
    fn steps_print_as_documented() {
        let shown: Vec<String> = STEPS.iter().map(|s| command(s).to_string()).collect();
        assert_eq!(
            shown,
            [
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets -- -D warnings",
                "cargo test --workspace",
                "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps",
            ]
        );
    }
}
