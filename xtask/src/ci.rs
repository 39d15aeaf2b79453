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
    println!("\nxtask ci: all {} steps passed in {:.0?}", STEPS.len(), started.elapsed());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

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
