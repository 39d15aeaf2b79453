//! `cargo xtask fuzz`: runs the cargo-fuzz targets of `crates/protocol/fuzz` and
//! `crates/cli/fuzz` (nightly, outside the workspace) and reports how each went. `cargo xtask
//! ci` ends with a short smoke run of every target when nightly and cargo-fuzz are installed
//! ([`ci_smoke`]).
//!
//! Every run gets a fresh temporary directory as its first corpus, where libFuzzer writes the
//! inputs it finds, and the checked-in `corpus/<target>` as its second, which libFuzzer only
//! reads: a smoke run never modifies the repository. Crashes land in `artifacts/<target>/`
//! (ignored by git); the full libFuzzer output of each run is kept in `target/xtask/fuzz/`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cmd::Cmd;

/// The fuzz crates, relative to the workspace root; target names are unique across them.
const FUZZ_DIRS: &[&str] = &["crates/protocol/fuzz", "crates/cli/fuzz"];

/// Seconds per target in `cargo xtask ci`'s smoke run.
const CI_SMOKE_SECONDS: u64 = 5;

/// Seconds per target with `--smoke`.
const SMOKE_SECONDS: u64 = 10;

/// Seconds for one target without `--smoke`.
const TARGET_SECONDS: u64 = 60;

/// How to install cargo-fuzz.
const INSTALL: &[&str] = &["install", "cargo-fuzz", "--locked"];

/// The command-line options of `cargo xtask fuzz`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    /// Run every target (or only `target`) briefly.
    smoke: bool,
    /// Run only this target.
    target: Option<String>,
    /// Seconds per target.
    seconds: Option<u64>,
    /// Install cargo-fuzz if it is missing.
    install: bool,
}

impl Options {
    /// Parses the arguments after `fuzz`; `--flag value` and `--flag=value` both work.
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| args.next().cloned()).ok_or(format!("`{flag}` needs a value"));
            match flag {
                "--smoke" => options.smoke = true,
                "--install" => options.install = true,
                "--target" => options.target = Some(value()?),
                "--seconds" => {
                    let text = value()?;
                    let seconds = text.parse().ok().filter(|&n: &u64| n > 0);
                    options.seconds =
                        Some(seconds.ok_or(format!("`--seconds` takes a positive whole number, got `{text}`"))?);
                }
                _ => return Err(format!("unknown option `{arg}`")),
            }
        }
        if !options.smoke && options.target.is_none() {
            return Err("give `--smoke` (every target) or `--target T` (one target)".to_owned());
        }
        Ok(options)
    }

    /// Seconds per target: `--seconds`, else 10 for a smoke run and 60 for one target.
    fn seconds(&self) -> u64 {
        self.seconds.unwrap_or(if self.smoke { SMOKE_SECONDS } else { TARGET_SECONDS })
    }
}

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// libFuzzer ran for the whole time and found nothing.
    Ok,
    /// libFuzzer found a crashing input (or a timeout, leak or OOM) and wrote it here.
    Crash(Option<String>),
    /// The run failed without a crash report (it could not start, say).
    Failed(String),
}

/// What libFuzzer's output says about a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct LogSummary {
    /// Executions, from the final `Done N runs in S second(s)` line or the last `#N` status line.
    runs: Option<u64>,
    /// Seconds, from the `Done` line.
    seconds: Option<u64>,
    /// Whether the `Done` line was seen (the run reached its time limit).
    done: bool,
    /// The crashing input, from `Test unit written to PATH`.
    artifact: Option<String>,
}

impl LogSummary {
    /// Reads libFuzzer's stderr.
    fn parse(log: &str) -> Self {
        let mut summary = Self::default();
        for line in log.lines() {
            let line = line.trim();
            // Status lines: `#1024\tpulse  cov: ...`.
            if let Some(rest) = line.strip_prefix('#')
                && let Some(n) = rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok())
            {
                summary.runs = Some(n);
            }
            if let Some((runs, seconds)) = parse_done(line) {
                summary.runs = Some(runs);
                summary.seconds = Some(seconds);
                summary.done = true;
            }
            if let Some((_, path)) = line.split_once("Test unit written to ") {
                summary.artifact = Some(path.trim().to_owned());
            }
        }
        summary
    }
}

/// Parses `Done 464886 runs in 21 second(s)`.
fn parse_done(line: &str) -> Option<(u64, u64)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["Done", runs, "runs", "in", seconds, unit] if unit.starts_with("second") => {
            Some((runs.parse().ok()?, seconds.parse().ok()?))
        }
        _ => None,
    }
}

/// The outcome of one target.
#[derive(Debug)]
struct Report {
    target: String,
    summary: LogSummary,
    wall: Duration,
    verdict: Verdict,
}

/// Entry point of `cargo xtask fuzz`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => return crate::usage_error(&message),
    };
    match fuzz(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask fuzz: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask ci`'s last step: every fuzz target for a few seconds when the nightly toolchain
/// and cargo-fuzz are installed; otherwise a line saying why it is skipped. `Err` when a target
/// failed.
pub(crate) fn ci_smoke() -> Result<(), String> {
    let nightly = Cmd::cargo().args(["+nightly", "--version"]).stdout_if_ok();
    let cargo_fuzz = Cmd::cargo().args(["fuzz", "--version"]).stdout_if_ok();
    let (Some(_), Some(_)) = (&nightly, &cargo_fuzz) else {
        let missing = match (nightly, cargo_fuzz) {
            (None, None) => "the nightly toolchain and cargo-fuzz are not installed",
            (None, _) => "the nightly toolchain is not installed",
            _ => "cargo-fuzz is not installed",
        };
        println!(
            "xtask ci: fuzz smoke runs SKIPPED: {missing} (rustup toolchain install nightly; cargo install cargo-fuzz \
             --locked; then `cargo xtask fuzz --smoke`)"
        );
        return Ok(());
    };
    let options = Options { smoke: true, seconds: Some(CI_SMOKE_SECONDS), ..Options::default() };
    match fuzz(&options)? {
        true => Ok(()),
        false => Err("a fuzz target failed its smoke run".to_owned()),
    }
}

/// Checks the tools, builds, runs and reports. `Ok(false)` when a target failed.
fn fuzz(options: &Options) -> Result<bool, String> {
    let root = crate::workspace_root();
    let nightly = Cmd::cargo().args(["+nightly", "--version"]).stdout_if_ok().ok_or(
        "the nightly toolchain is needed (`cargo +nightly --version` failed); \
         install it with `rustup toolchain install nightly`",
    )?;
    let cargo_fuzz = ensure_cargo_fuzz(options.install)?;
    println!("xtask fuzz: {nightly}; {cargo_fuzz}");

    // Every target with its crate.
    let mut all: Vec<(PathBuf, String)> = Vec::new();
    for dir in FUZZ_DIRS {
        let fuzz_dir = root.join(dir);
        let list = Cmd::cargo().args(["+nightly", "fuzz", "list"]).dir(&fuzz_dir);
        let listed = list.stdout_if_ok().ok_or(format!("`{list}` failed in {dir}"))?;
        all.extend(listed.lines().map(str::trim).filter(|l| !l.is_empty()).map(|t| (fuzz_dir.clone(), t.to_owned())));
    }
    let names = || all.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(", ");
    let targets: Vec<(PathBuf, String)> = match &options.target {
        Some(target) => match all.iter().find(|(_, t)| t == target) {
            Some(found) => vec![found.clone()],
            None => return Err(format!("no fuzz target `{target}`; the targets are: {}", names())),
        },
        None => all.clone(),
    };
    if targets.is_empty() {
        return Err("no fuzz crate lists a target".to_owned());
    }

    // Build once per crate, in the configuration `fuzz run` uses, so each run starts at once.
    let mut dirs: Vec<&PathBuf> = targets.iter().map(|(dir, _)| dir).collect();
    dirs.dedup();
    for fuzz_dir in dirs {
        let build = Cmd::cargo().args(["+nightly", "fuzz", "build"]).args(options.target.clone()).dir(fuzz_dir);
        println!("\n==> {build}  (in {})", relative(fuzz_dir, &root));
        match build.status()? {
            status if status.success() => {}
            status => return Err(format!("`{build}` failed ({status})")),
        }
    }

    let seconds = options.seconds();
    let logs = root.join("target").join("xtask").join("fuzz");
    fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let started = Instant::now();
    let mut reports = Vec::new();
    for (i, (fuzz_dir, target)) in targets.iter().enumerate() {
        print!("\n==> [{}/{}] ", i + 1, targets.len());
        let report = run_target(fuzz_dir, &logs, target, seconds)?;
        println!("    {} ({:.1?})", describe(&report.verdict, &root), report.wall);
        reports.push(report);
    }
    let total = started.elapsed();

    println!("\n{}", table(&reports, &root));
    let failed = reports.iter().filter(|r| r.verdict != Verdict::Ok).count();
    println!(
        "{} target(s), {} OK, {failed} failed; {seconds} s each; fuzzing took {:.1} s; logs in {}",
        reports.len(),
        reports.len() - failed,
        total.as_secs_f64(),
        relative(&logs, &root),
    );
    Ok(failed == 0)
}

/// Checks that cargo-fuzz is installed, installing it first when `install` is set and it is
/// missing. Returns its version.
fn ensure_cargo_fuzz(install: bool) -> Result<String, String> {
    let version = Cmd::cargo().args(["fuzz", "--version"]);
    if let Some(found) = version.stdout_if_ok() {
        if install {
            println!("xtask fuzz: {found} is installed; not reinstalling");
        }
        return Ok(found);
    }
    let installer = Cmd::cargo().args(INSTALL.iter().copied());
    if !install {
        return Err(format!("cargo-fuzz is not installed (`{version}` failed); install it with `{installer}`"));
    }
    println!("==> {installer}");
    match installer.status()? {
        status if status.success() => {}
        status => return Err(format!("`{installer}` failed ({status})")),
    }
    version.stdout_if_ok().ok_or(format!("`{version}` still fails after `{installer}`"))
}

/// A fresh, empty directory for the corpus that one run writes.
fn fresh_corpus(target: &str) -> Result<PathBuf, String> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("wxpay-fuzz-{target}-{}-{nanos}", std::process::id()));
    // `create_dir`, not `create_dir_all`: it fails rather than reuse an existing directory.
    fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Runs `target` for `seconds`, with its output in `logs/<target>.log`.
fn run_target(fuzz_dir: &Path, logs: &Path, target: &str, seconds: u64) -> Result<Report, String> {
    let scratch = fresh_corpus(target)?;
    let seeds = Path::new("corpus").join(target);
    let mut cmd = Cmd::cargo().args(["+nightly", "fuzz", "run", target]).args([scratch.display().to_string()]);
    if fuzz_dir.join(&seeds).is_dir() {
        cmd = cmd.args([seeds.display().to_string()]);
    }
    let cmd = cmd.args(["--".to_owned(), format!("-max_total_time={seconds}")]).dir(fuzz_dir);
    println!("{cmd}");

    let log_path = logs.join(format!("{target}.log"));
    let log = File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| format!("cannot share {}: {e}", log_path.display()))?;
    let started = Instant::now();
    let status = cmd.command().stdin(Stdio::null()).stdout(log).stderr(log_err).status();
    let wall = started.elapsed();
    // The scratch corpus is thrown away: only the checked-in seeds are kept.
    let _ = fs::remove_dir_all(&scratch);

    let text = fs::read(&log_path).map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default();
    let summary = LogSummary::parse(&text);
    let log_name = log_path.display();
    let verdict = match status {
        Err(e) => Verdict::Failed(format!("could not start: {e}")),
        Ok(_) if summary.artifact.is_some() => Verdict::Crash(summary.artifact.clone()),
        Ok(status) if status.success() && summary.done => Verdict::Ok,
        Ok(status) if status.success() => Verdict::Failed(format!("no `Done` line from libFuzzer; see {log_name}")),
        Ok(status) => Verdict::Failed(format!("{status}; see {log_name}")),
    };
    Ok(Report { target: target.to_owned(), summary, wall, verdict })
}

/// `path` relative to `root` when it is inside it.
fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// One word and a path, for the progress line and the table.
fn describe(verdict: &Verdict, root: &Path) -> String {
    match verdict {
        Verdict::Ok => "OK".to_owned(),
        Verdict::Crash(Some(artifact)) => format!("CRASH {}", relative(Path::new(artifact), root)),
        Verdict::Crash(None) => "CRASH (no artifact written)".to_owned(),
        Verdict::Failed(why) => format!("FAILED {why}"),
    }
}

/// The report table.
fn table(reports: &[Report], root: &Path) -> String {
    let width = reports.iter().map(|r| r.target.len()).chain(["target".len()]).max().unwrap_or(0);
    let mut out = format!("{:<width$}  {:>10}  {:>7}  result\n", "target", "runs", "seconds");
    for r in reports {
        let runs = r.summary.runs.map_or("-".to_owned(), |n| n.to_string());
        // libFuzzer's own count when it finished, else the wall-clock time of the run.
        let seconds = r.summary.seconds.map_or_else(|| format!("~{}", r.wall.as_secs()), |s| s.to_string());
        out.push_str(&format!("{:<width$}  {runs:>10}  {seconds:>7}  {}\n", r.target, describe(&r.verdict, root)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options() {
        let smoke = Options::parse(&args(&["--smoke"])).unwrap();
        assert_eq!(smoke.seconds(), 10);
        assert_eq!(Options::parse(&args(&["--smoke", "--seconds", "3"])).unwrap().seconds(), 3);
        let one = Options::parse(&args(&["--target=validators", "--install"])).unwrap();
        assert_eq!((one.target.as_deref(), one.install, one.seconds()), (Some("validators"), true, 60));
        for bad in [&[][..], &["--seconds", "0", "--smoke"], &["--smoke", "--seconds"], &["--smoke", "--fast"]] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_a_clean_run() {
        let log = "INFO: Seed: 1\n#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #1024\tpulse  cov: 10 ft: 11 corp: 1/1b lim: 4 exec/s: 512 rss: 31Mb\n\
                   Done 464886 runs in 11 second(s)\n";
        let summary = LogSummary::parse(log);
        assert_eq!(summary, LogSummary { runs: Some(464886), seconds: Some(11), done: true, artifact: None });
    }

    #[test]
    fn reads_a_crash() {
        let log = "#4096\tpulse  cov: 1\nthread '<unnamed>' panicked at fuzz_targets/x.rs:9:9:\n\
                   ==1== ERROR: libFuzzer: deadly signal\n\
                   artifact_prefix='/w/artifacts/x/'; Test unit written to /w/artifacts/x/crash-7d8b\n";
        let summary = LogSummary::parse(log);
        assert_eq!(summary.runs, Some(4096));
        assert!(!summary.done);
        assert_eq!(summary.artifact.as_deref(), Some("/w/artifacts/x/crash-7d8b"));
        assert_eq!(describe(&Verdict::Crash(summary.artifact), Path::new("/w")), "CRASH artifacts/x/crash-7d8b");
    }
}
