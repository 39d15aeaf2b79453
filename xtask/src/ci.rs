//! `cargo xtask ci`: the one command CI and people run ("if `cargo xtask ci` passes locally, CI
//! will be green").

use std::path::{Path, PathBuf};
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
    /// What to try when the step fails for a reason outside the code, if there is a usual one.
    hint: Option<&'static str>,
}

/// The target the embeddable core builds for (docs/design.md §2).
const WASM: &str = "wasm32-unknown-unknown";

/// Said when a wasm step fails: the usual cause is a toolchain without the target's std.
const WASM_HINT: &str = "if the target is missing: rustup target add wasm32-unknown-unknown (.ci/run does this)";

/// The steps, in order; the first failure stops the run.
const STEPS: &[Step] = &[
    Step { name: "fmt", args: &["fmt", "--all", "--", "--check"], env: &[], hint: None },
    Step {
        name: "clippy",
        args: &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        env: &[],
        hint: None,
    },
    // The embeddable core (docs/design.md §2): wxpay-protocol without aws-lc-rs, for wasm32.
    Step {
        name: "wasm clippy",
        args: &["clippy", "-p", "wxpay-protocol", "--no-default-features", "--target", WASM, "--", "-D", "warnings"],
        env: &[],
        hint: Some(WASM_HINT),
    },
    Step {
        name: "wasm build",
        args: &["build", "-p", "wxpay-protocol", "--no-default-features", "--target", WASM],
        env: &[],
        hint: Some(WASM_HINT),
    },
    Step { name: "test", args: &["test", "--workspace"], env: &[], hint: None },
    Step {
        name: "test without default features",
        args: &["test", "-p", "wxpay-protocol", "--no-default-features"],
        env: &[],
        hint: None,
    },
    Step {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
        hint: None,
    },
];

/// One check of `wxpay-protocol`'s normal dependency graph.
#[derive(Debug)]
struct GraphCheck {
    /// The features, for the report.
    features: &'static str,
    /// Extra `cargo tree` arguments.
    args: &'static [&'static str],
    /// Crates that must not appear (a name also forbids the names it prefixes with `-`).
    forbidden: &'static [&'static str],
}

/// The graph checks: the core is sans-IO (docs/design.md §1: no tokio, hyper, ureq or socket;
/// docs/design.md §5: no ring), and without its default feature it compiles nothing of aws-lc
/// (docs/design.md §2).
const GRAPH_CHECKS: &[GraphCheck] = &[
    GraphCheck {
        features: "default features",
        args: &[],
        forbidden: &["tokio", "hyper", "ureq", "mio", "socket2", "ring"],
    },
    GraphCheck {
        features: "--no-default-features",
        args: &["--no-default-features"],
        forbidden: &["tokio", "hyper", "ureq", "mio", "socket2", "ring", "aws-lc-rs", "aws-lc-sys", "aws-lc-fips-sys"],
    },
];

/// The crate names in a `cargo tree --prefix none` listing that are in `forbidden`.
fn forbidden(tree: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| forbidden.iter().any(|f| name == f || name.starts_with(&format!("{f}-"))))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The `cargo tree` command of a check.
fn tree_command(check: &GraphCheck) -> Cmd {
    Cmd::this_cargo()
        .args(["tree", "-p", "wxpay-protocol", "-e", "normal", "--prefix", "none"])
        .args(check.args.iter().copied())
}

/// Runs every graph check on `cargo tree -p wxpay-protocol -e normal`.
fn check_protocol_tree() -> Result<(), String> {
    for check in GRAPH_CHECKS {
        let cmd = tree_command(check);
        println!("\n==> protocol graph ({}): {cmd}", check.features);
        let output = cmd.output()?;
        if !output.status.success() {
            return Err(format!("{cmd} exited with {}", output.status));
        }
        let found = forbidden(&String::from_utf8_lossy(&output.stdout), check.forbidden);
        if !found.is_empty() {
            return Err(format!("wxpay-protocol ({}) depends on {}", check.features, found.join(", ")));
        }
        println!("no {} in wxpay-protocol's dependencies", check.forbidden.join(", "));
    }
    Ok(())
}

/// The package of the runnable examples (`examples/`).
const EXAMPLES_PACKAGE: &str = "wxpay-examples";

/// The examples in `examples/examples`: every `*.rs` file there, by name, sorted.
fn example_names() -> Result<Vec<String>, String> {
    let dir = crate::workspace_root().join("examples").join("examples");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|ext| ext == "rs")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The command that runs example `name`.
fn example_command(name: &str) -> Cmd {
    Cmd::this_cargo().args(["run", "--quiet", "-p", EXAMPLES_PACKAGE, "--example", name])
}

/// Runs every example against the embedded sandbox each starts; the first failure stops.
fn run_examples() -> Result<(), String> {
    let names = example_names()?;
    if names.is_empty() {
        return Err("no example in examples/examples".to_owned());
    }
    for name in &names {
        let cmd = example_command(name);
        println!("\n==> example {name}: {cmd}");
        match cmd.status() {
            Ok(status) if status.success() => {}
            Ok(status) => return Err(format!("example {name} exited with {status}")),
            Err(e) => return Err(format!("example {name}: {e}")),
        }
    }
    println!("all {} examples ran", names.len());
    Ok(())
}

/// The package whose tests `cargo xtask ci` runs from its packaged contents: the crate the
/// issue requires to be self-contained. (The other crates' tests also read only files of their
/// own packages, but they build against the workspace's unpublished crates, which a standalone
/// `cargo test` of the unpacked `.crate` would fetch from crates.io.)
const PACKAGED_TESTS: &str = "wxpay-protocol";

/// `cargo package --workspace`: every member packaged and, for the publishable ones, built from
/// its `.crate` alone. `--allow-dirty` lets it run on a tree with uncommitted changes too; on a
/// clean clone it changes nothing.
fn package_command() -> Cmd {
    Cmd::this_cargo().args(["package", "--workspace", "--allow-dirty"])
}

/// The `cargo test` of an unpacked package in `dir`, with its own lock file and a target
/// directory of its own under the workspace's (`<target>/package/unpacked-target`), kept between
/// runs so that only the package itself is rebuilt.
fn packaged_test_command(dir: &Path, target: &Path) -> Cmd {
    let target_dir = target.join("package").join("unpacked-target");
    Cmd::this_cargo().args(["test", "--locked"]).env("CARGO_TARGET_DIR", &target_dir.display().to_string()).dir(dir)
}

/// The value of the first `"key":"value"` string field of a JSON text (enough for the flat
/// fields of `cargo metadata` this reads; `\\`, `\"` and `\/` unescaped).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// The version in a `cargo pkgid` answer: `path+file:///w/crates/protocol#wxpay-protocol@0.1.0`
/// or `path+file:///w/wxpay-protocol#0.1.0`.
fn pkgid_version(pkgid: &str) -> Option<&str> {
    let fragment = pkgid.rsplit_once('#')?.1;
    Some(fragment.rsplit_once('@').map_or(fragment, |(_, version)| version))
}

/// Runs a command with inherited output; an error names it unless it exits with success.
fn run_checked(cmd: &Cmd) -> Result<(), String> {
    match cmd.status()? {
        status if status.success() => Ok(()),
        status => Err(format!("{cmd} exited with {status}")),
    }
}

/// `cargo package --workspace`, then [`PACKAGED_TESTS`]'s `.crate` unpacked under
/// `<target>/package/unpacked` and its tests run there, outside the workspace's files.
fn check_packages() -> Result<(), String> {
    let cmd = package_command();
    println!("\n==> packages: {cmd}");
    run_checked(&cmd)?;

    let metadata = Cmd::this_cargo().args(["metadata", "--format-version", "1", "--no-deps"]);
    let output = metadata.stdout_if_ok().ok_or_else(|| format!("{metadata} failed"))?;
    let target = PathBuf::from(
        json_string_field(&output, "target_directory").ok_or_else(|| format!("{metadata}: no target_directory"))?,
    );
    let pkgid = Cmd::this_cargo().args(["pkgid", "-p", PACKAGED_TESTS]);
    let id = pkgid.stdout_if_ok().ok_or_else(|| format!("{pkgid} failed"))?;
    let version = pkgid_version(&id).ok_or_else(|| format!("{pkgid}: no version in `{id}`"))?;
    let name = format!("{PACKAGED_TESTS}-{version}");
    let crate_file = target.join("package").join(format!("{name}.crate"));
    let unpacked = target.join("package").join("unpacked");
    if unpacked.exists() {
        std::fs::remove_dir_all(&unpacked).map_err(|e| format!("cannot remove {}: {e}", unpacked.display()))?;
    }
    std::fs::create_dir_all(&unpacked).map_err(|e| format!("cannot create {}: {e}", unpacked.display()))?;
    // The unpacked package lies under the workspace's target directory, which no workspace
    // includes; its manifest has no `[workspace]`, so cargo treats it as a package of its own.
    let tar = Cmd::new("tar").args([
        "-xzf".to_owned(),
        crate_file.display().to_string(),
        "-C".to_owned(),
        unpacked.display().to_string(),
    ]);
    println!("\n==> unpack {name}: {tar}");
    run_checked(&tar)?;

    let test = packaged_test_command(&unpacked.join(&name), &target);
    println!("\n==> tests of the packaged {name} (in {}): {test}", unpacked.join(&name).display());
    run_checked(&test)
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
            if let Some(hint) = step.hint {
                eprintln!("xtask ci: {hint}");
            }
            return ExitCode::FAILURE;
        }
    }
    if let Err(why) = run_examples() {
        eprintln!("\nxtask ci: the examples failed: {why}");
        return ExitCode::FAILURE;
    }
    if let Err(why) = check_protocol_tree() {
        eprintln!("\nxtask ci: the protocol dependency checks failed: {why}");
        return ExitCode::FAILURE;
    }
    if let Err(why) = check_packages() {
        eprintln!("\nxtask ci: the packages failed: {why}");
        return ExitCode::FAILURE;
    }
    println!("\n==> fuzz smoke runs (every target of crates/protocol/fuzz and crates/cli/fuzz, briefly)");
    if let Err(why) = crate::fuzz::ci_smoke() {
        eprintln!("\nxtask ci: the fuzz smoke runs failed: {why}");
        return ExitCode::FAILURE;
    }
    println!(
        "\nxtask ci: all {} steps, the examples, the protocol dependency checks, the packages and the fuzz smoke runs \
         passed in {:.0?}",
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
        let sans_io = GRAPH_CHECKS[0].forbidden;
        assert_eq!(forbidden(tree, sans_io), ["socket2", "tokio", "tokio-util"]);
        assert!(forbidden("wxpay-protocol v0.1.0\nhttp v1\n", sans_io).is_empty());
    }

    #[test]
    fn aws_lc_is_forbidden_only_without_default_features() {
        let tree = "wxpay-protocol v0.1.0 (/w)\naws-lc-rs v1.19.0\naws-lc-sys v0.47.0\nrustls-webpki v0.103.16\n";
        let [default, bare] = GRAPH_CHECKS else { panic!("two graph checks") };
        assert!(forbidden(tree, default.forbidden).is_empty());
        assert_eq!(forbidden(tree, bare.forbidden), ["aws-lc-rs", "aws-lc-sys"]);
        assert_eq!(
            tree_command(bare).to_string(),
            "cargo tree -p wxpay-protocol -e normal --prefix none --no-default-features"
        );
    }

    #[test]
    fn every_example_file_is_run_by_name() {
        let names = example_names().unwrap();
        for expected in ["cloudpay_finish", "own_http_client", "v3_order_query"] {
            assert!(names.contains(&expected.to_owned()), "{names:?}");
        }
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
        assert_eq!(
            example_command("v3_order_query").to_string(),
            "cargo run --quiet -p wxpay-examples --example v3_order_query"
        );
    }

    #[test]
    fn packaging_and_the_packaged_tests_print_as_documented() {
        assert_eq!(package_command().to_string(), "cargo package --workspace --allow-dirty");
        let test = packaged_test_command(Path::new("/t/package/unpacked/wxpay-protocol-0.1.0"), Path::new("/t"));
        assert_eq!(test.to_string(), "CARGO_TARGET_DIR=/t/package/unpacked-target cargo test --locked");
    }

    #[test]
    fn the_target_directory_and_the_version_are_read_from_cargo() {
        let metadata = r#"{"packages":[],"target_directory":"C:\\w\\target","version":1,"workspace_root":"/w"}"#;
        assert_eq!(json_string_field(metadata, "target_directory").as_deref(), Some(r"C:\w\target"));
        assert_eq!(json_string_field(metadata, "missing"), None);
        assert_eq!(pkgid_version("path+file:///w/crates/protocol#wxpay-protocol@0.1.0"), Some("0.1.0"));
        assert_eq!(pkgid_version("path+file:///w/wxpay-protocol#0.2.3"), Some("0.2.3"));
        assert_eq!(pkgid_version("wxpay-protocol"), None);
    }

    #[test]
    fn steps_print_as_documented() {
        let shown: Vec<String> = STEPS.iter().map(|s| command(s).to_string()).collect();
        assert_eq!(
            shown,
            [
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets -- -D warnings",
                "cargo clippy -p wxpay-protocol --no-default-features --target wasm32-unknown-unknown -- -D warnings",
                "cargo build -p wxpay-protocol --no-default-features --target wasm32-unknown-unknown",
                "cargo test --workspace",
                "cargo test -p wxpay-protocol --no-default-features",
                "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps",
            ]
        );
    }
}
