//! A fleet of `wxpay --batch` workers: four processes share one input file with `--shard`, one
//! Redis with `--redis`, and one sandbox that enforces the documented 30 QPS of the return
//! query (per merchant, docs/protocol.md §7). With the shared budget none is refused and the budget
//! is used; without it, the same run is throttled; with Redis killed and brought back mid-run, no
//! request above the budget reaches the sandbox and the batch completes.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::redis::RedisServer;
use common::sandbox::SandboxProcess;

const WORKERS: u32 = 4;
const ROWS: usize = 240;
const QPS: u64 = 30;

/// A CSV of `ROWS` return queries for returns the sandbox does not hold (each answered
/// ORDERNOTEXIST, and counted against the limit like any other).
fn write_input(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("returns.csv");
    let mut csv = String::from("out_order_no,out_return_no\n");
    for i in 0..ROWS {
        csv.push_str(&format!("P2026112900{i:04},R2026112900{i:04}\n"));
    }
    std::fs::write(&path, csv).expect("the input is written");
    path
}

/// Starts the `WORKERS` workers, each on its shard with its own output file.
fn workers(sandbox: &SandboxProcess, input: &Path, dir: &Path, redis: Option<&str>) -> Vec<Child> {
    (1..=WORKERS)
        .map(|i| {
            let mut command = Command::new(assert_cmd::cargo::cargo_bin!("wxpay"));
            command
                .args(["cloudpay", "return-query", "--sub-mch-id", "1900000109", "--max-attempts", "1"])
                .args(["--cloudpay-url", &sandbox.http_url()])
                .arg("--batch")
                .arg(input)
                .arg("--output")
                .arg(dir.join(format!("out-{i}.jsonl")))
                .args(["--shard", &format!("{i}/{WORKERS}"), "--concurrency", "8"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(url) = redis {
                command.args(["--redis", url]);
            }
            command.spawn().expect("a worker starts")
        })
        .collect()
}

/// Waits for every worker; their exit codes.
fn wait(workers: Vec<Child>) -> Vec<i32> {
    workers.into_iter().map(|mut w| w.wait().expect("the worker ends").code().unwrap_or(-1)).collect()
}

/// The lines of every worker's output, and how many say FREQUENCY_LIMITED.
fn lines(dir: &Path) -> (usize, usize) {
    let mut all = Vec::new();
    for i in 1..=WORKERS {
        let text = std::fs::read_to_string(dir.join(format!("out-{i}.jsonl"))).expect("an output file");
        all.extend(text.lines().map(str::to_owned));
    }
    let limited = all.iter().filter(|l| l.contains("FREQUENCY_LIMITED")).count();
    (all.len(), limited)
}

#[test]
fn four_workers_sharing_redis_keep_the_limit_and_use_the_budget() {
    let redis = RedisServer::start();
    let sandbox = SandboxProcess::with_flags(&["--qps", "profitsharingreturnquery=30"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = write_input(dir.path());

    let (admitted_before, refused_before) = (sandbox.stat("limited_admitted"), sandbox.stat("frequency_limited"));
    let running = workers(&sandbox, &input, dir.path(), Some(&redis.url()));
    // The run's window opens with the first call the sandbox admits (process start-up, which a
    // loaded CI machine can stretch, is not budget the workers could have used).
    let deadline = Instant::now() + Duration::from_secs(30);
    while sandbox.stat("limited_admitted") == admitted_before {
        assert!(Instant::now() < deadline, "no call reached the sandbox");
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    // ... and closes with the last (process teardown is not budget either).
    while sandbox.stat("limited_admitted") < admitted_before + ROWS as u64 {
        assert!(Instant::now() < deadline + Duration::from_secs(60), "the rows did not all arrive");
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = started.elapsed();
    let codes = wait(running);
    let admitted = sandbox.stat("limited_admitted") - admitted_before;
    let refused = sandbox.stat("frequency_limited") - refused_before;
    // Every row answered ORDERNOTEXIST (exit 3), none FREQUENCY_LIMITED.
    assert_eq!(codes, [3, 3, 3, 3]);
    assert_eq!((admitted, refused), (ROWS as u64, 0));
    assert_eq!(lines(dir.path()), (ROWS, 0));
    // The budget over the run (the first slot, then 30 a second): at least 95 % used.
    let budget = 1.0 + elapsed.as_secs_f64() * QPS as f64;
    assert!(
        admitted as f64 >= 0.95 * budget,
        "{admitted} calls in {elapsed:?}: {:.1} % of the budget",
        100.0 * admitted as f64 / budget
    );

    // The same run without the shared budget: each worker keeps 30 QPS, four offer 120.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = write_input(dir.path());
    let refused_before = sandbox.stat("frequency_limited");
    let codes = wait(workers(&sandbox, &input, dir.path(), None));
    let refused = sandbox.stat("frequency_limited") - refused_before;
    assert!(codes.iter().all(|&c| c == 3), "{codes:?}");
    assert!(refused > 0, "without --redis the sandbox answers FREQUENCY_LIMITED");
    assert_eq!(lines(dir.path()).1, refused as usize, "each refusal is a row's final line (--max-attempts 1)");
}

#[test]
fn a_redis_killed_mid_run_sends_nothing_above_the_budget_and_the_batch_completes() {
    let mut redis = RedisServer::start();
    let port = redis.port();
    let url = redis.url();
    let sandbox = SandboxProcess::with_flags(&["--qps", "profitsharingreturnquery=30"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = write_input(dir.path());
    let refused_before = sandbox.stat("frequency_limited");

    let running = workers(&sandbox, &input, dir.path(), Some(&url));
    std::thread::sleep(Duration::from_secs(2));
    redis.kill();
    let during = sandbox.stat("limited_admitted");
    std::thread::sleep(Duration::from_millis(1500));
    // Nothing was sent while Redis was away (a call in flight at the kill may still land).
    assert!(sandbox.stat("limited_admitted") <= during + 4 * 8, "calls went out without a slot");
    let redis = RedisServer::start_on(port);
    let codes = wait(running);
    assert_eq!(codes, [3, 3, 3, 3], "the batch completed once Redis was back");
    assert_eq!(sandbox.stat("frequency_limited") - refused_before, 0, "no request above the budget");
    assert_eq!(lines(dir.path()), (ROWS, 0));
    drop(redis);
}

/// `ROWS` return queries of which the second half repeats the first: duplicates get a line each.
fn write_input_with_duplicates(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("returns.csv");
    let mut csv = String::from("out_order_no,out_return_no\n");
    for i in 0..ROWS {
        let n = i % (ROWS / 2);
        csv.push_str(&format!("P2026112901{n:04},R2026112901{n:04}\n"));
    }
    std::fs::write(&path, csv).expect("the input is written");
    path
}

/// One worker over the whole file, `--output out.jsonl` in `dir`.
fn worker(sandbox: &SandboxProcess, input: &Path, dir: &Path) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("wxpay"));
    command
        .args(["cloudpay", "return-query", "--sub-mch-id", "1900000109", "--max-attempts", "1"])
        .args(["--cloudpay-url", &sandbox.http_url(), "--concurrency", "8"])
        .arg("--batch")
        .arg(input)
        .arg("--output")
        .arg(dir.join("out.jsonl"))
        .stdout(Stdio::null());
    command
}

/// How many final lines each row has in `dir/out.jsonl` (every line must parse).
fn final_lines_per_row(dir: &Path) -> std::collections::BTreeMap<u64, usize> {
    let text = std::fs::read_to_string(dir.join("out.jsonl")).expect("the output");
    let mut per_row = std::collections::BTreeMap::new();
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        let retryable = value["error"]["retryable"] == serde_json::Value::Bool(true);
        if !retryable {
            *per_row.entry(value["row"].as_u64().expect("a row number")).or_default() += 1;
        }
    }
    per_row
}

#[test]
fn a_worker_killed_with_sigkill_resumes_exactly_the_rows_without_a_final_line() {
    let sandbox = SandboxProcess::with_flags(&["--qps", "profitsharingreturnquery=40"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = write_input_with_duplicates(dir.path());
    let before = sandbox.stat("limited_admitted");
    let mut first = worker(&sandbox, &input, dir.path()).stderr(Stdio::null()).spawn().expect("a worker");
    std::thread::sleep(Duration::from_millis(2500));
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    let done_before = final_lines_per_row_lenient(dir.path());
    assert!(done_before > 0 && done_before < ROWS, "killed mid-run: {done_before} rows done");

    let status = worker(&sandbox, &input, dir.path()).stderr(Stdio::null()).status().expect("the resumed worker");
    assert_eq!(status.code(), Some(3), "every row answered ORDERNOTEXIST");
    let per_row = final_lines_per_row(dir.path());
    assert_eq!(per_row.len(), ROWS, "every row, duplicates included, has a line");
    assert!(per_row.iter().all(|(row, n)| (1..=ROWS as u64).contains(row) && *n == 1), "{per_row:?}");
    // Sent twice: at most the calls in flight at the kill (--concurrency 8).
    let sent = sandbox.stat("limited_admitted") - before;
    assert!((ROWS as u64..=ROWS as u64 + 8).contains(&sent), "{sent} calls for {ROWS} rows");
}

/// Final lines in `dir/out.jsonl` before a resume, skipping a half-written last line.
fn final_lines_per_row_lenient(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("out.jsonl")).unwrap_or_default();
    text.lines().filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()).count()
}

#[test]
fn ctrl_c_finishes_the_calls_in_flight_and_prints_the_resuming_command() {
    let sandbox = SandboxProcess::with_flags(&["--qps", "profitsharingreturnquery=40"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = write_input_with_duplicates(dir.path());
    let before = sandbox.stat("limited_admitted");
    let child = worker(&sandbox, &input, dir.path()).stderr(Stdio::piped()).spawn().expect("a worker");
    std::thread::sleep(Duration::from_millis(2000));
    let interrupt = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
    assert!(interrupt.success());
    let output = child.wait_with_output().expect("the worker ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: the rows not sent are sent by the same command:"), "{stderr}");
    assert!(stderr.contains("--batch") && stderr.contains("out.jsonl"), "{stderr}");
    let partial = final_lines_per_row(dir.path());
    assert!(!partial.is_empty() && partial.len() < ROWS, "{} rows done", partial.len());

    let status = worker(&sandbox, &input, dir.path()).stderr(Stdio::null()).status().expect("the resumed worker");
    assert_eq!(status.code(), Some(3));
    let per_row = final_lines_per_row(dir.path());
    assert_eq!(per_row.len(), ROWS);
    assert!(per_row.values().all(|&n| n == 1), "{per_row:?}");
    // Nothing in flight was lost at Ctrl-C: no row was sent twice.
    assert_eq!(sandbox.stat("limited_admitted") - before, ROWS as u64);
}
