//! `--batch`, run as the built binary against `wxpay sandbox`: CSV and JSON lines, API errors
//! counted by code, the client's rate limit across concurrent rows, and resuming an interrupted
//! run without sending a row twice.

mod common;

use std::collections::BTreeSet;

use common::sandbox::{ORDER_36, OUT_ORDER_NO, REFUND_ORDER, SUB_MCH, SandboxProcess, TRANSACTION, closed_port};
use common::wxpay;
use serde_json::Value;

/// Runs `wxpay args`, asserts the exit code, and returns stdout and stderr.
fn run(args: &[String], code: i32) -> (String, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = wxpay(&refs).assert().code(code).get_output().clone();
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// `parts` and `flags` as one argument list.
fn args(parts: &[&str], flags: &[String]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).chain(flags.iter().cloned()).collect()
}

/// The JSON lines of `text`.
fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}"))).collect()
}

/// The line of row `n`.
fn line(lines: &[Value], n: u64) -> &Value {
    lines.iter().find(|l| l["row"] == n).unwrap_or_else(|| panic!("no line for row {n}"))
}

/// Writes `text` to `name` in `dir` and returns the path.
fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn csv_batch_writes_a_line_per_row_and_counts_api_errors_by_code() {
    let sandbox = SandboxProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        &dir,
        "refunds.csv",
        &format!(
            "transaction_id,out_refund_no,memo\n\
             {REFUND_ORDER},,seed 004\n\
             ,R20261121000007,one of 36\n\
             4299999999999999999999999999,,unknown order\n\
             ,R20990101UNKNOWN,unknown refund\n\
             42#,,bad id\n\
             1,2,3,4\n"
        ),
    );
    let batch =
        args(&["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--batch", &csv], &sandbox.cloudpay_flags());
    let (stdout, stderr) = run(&batch, 3);
    let lines = lines(&stdout);
    assert_eq!(lines.len(), 6, "{stdout}");
    assert_eq!(lines.iter().map(|l| l["row"].as_u64().unwrap()).collect::<BTreeSet<_>>(), (1..=6).collect());

    let first = line(&lines, 1);
    assert_eq!(first["key"], format!("sub_mch_id={SUB_MCH}&transaction_id={REFUND_ORDER}"));
    assert_eq!(first["input"]["memo"], "seed 004", "extra columns are kept");
    assert_eq!(first["input"]["sub_mch_id"], SUB_MCH, "the flag is the default for a missing column");
    assert_eq!(first["result"]["refunds"]["refunds"][0]["refund_id"], REFUND_ORDER);
    assert_eq!(line(&lines, 2)["result"]["refunds"]["refunds"][0]["refund_id"], "5030000000000000000000000007");
    for n in [3, 4] {
        let error = &line(&lines, n)["error"];
        assert_eq!((error["kind"].as_str(), error["code"].as_str()), (Some("api"), Some("REFUNDNOTEXIST")), "{error}");
        assert_eq!(error["retryable"], false);
    }
    let invalid = &line(&lines, 5)["error"];
    assert_eq!((invalid["kind"].as_str(), invalid["field"].as_str()), (Some("invalid_input"), Some("transaction_id")));
    let unreadable = &line(&lines, 6);
    assert_eq!(unreadable["key"], "row=6");
    assert_eq!(unreadable["error"]["kind"], "invalid_input");

    assert!(stderr.contains("note: column(s) `memo` are not fields of this operation"), "{stderr}");
    assert!(stderr.contains("batch: 6 rows, 4 sent\n"), "{stderr}");
    assert!(stderr.contains("  done        2\n"), "{stderr}");
    assert!(stderr.contains("  API errors  2  (REFUNDNOTEXIST 2)\n"), "{stderr}");
    assert!(stderr.contains("  failed      2  (invalid_input 2)\n"), "{stderr}");
}

#[test]
fn jsonl_batch_of_v3_order_queries_to_an_output_file() {
    let sandbox = SandboxProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = write(
        &dir,
        "orders.jsonl",
        &format!(
            "{{\"sub_mchid\": 1900000109, \"transaction_id\": \"{TRANSACTION}\", \"out_order_no\": \"{OUT_ORDER_NO}\"}}\n\
             \n\
             {{\"transaction_id\": \"{TRANSACTION}\", \"out_order_no\": \"P20990101UNKNOWN\", \"note\": null}}\n\
             {{\"transaction_id\": 4208450740201411110007820472, \"out_order_no\": \"P1\"}}\n\
             not json\n"
        ),
    );
    let output = dir.path().join("out.jsonl").to_str().unwrap().to_owned();
    let batch = args(
        &["ecommerce", "order-query", "--sub-mchid", SUB_MCH, "--batch", &jsonl, "--output", &output, "--json"],
        &sandbox.v3_flags(),
    );
    let (stdout, stderr) = run(&batch, 3);
    assert_eq!(stdout, "", "the lines go to --output");
    let summary: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["batch"],
        serde_json::json!({"rows": 4, "sent": 2, "skipped": 0, "done": 1, "exit": 3,
                           "api_errors": {"RESOURCE_NOT_EXISTS": 1}, "failed": {"invalid_input": 2}})
    );
    let lines = lines(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(lines.len(), 4);
    assert_eq!(line(&lines, 1)["result"]["status"], "PROCESSING");
    assert_eq!(line(&lines, 1)["input"]["sub_mchid"], SUB_MCH, "a whole number is read as its digits");
    let error = &line(&lines, 2)["error"];
    assert_eq!(error["code"], "RESOURCE_NOT_EXISTS");
    assert!(error["request_id"].as_str().unwrap().starts_with("SBX"), "{error}");
    assert!(line(&lines, 3)["error"]["summary"].as_str().unwrap().contains("write it as a string"));
    assert!(line(&lines, 4)["error"]["summary"].as_str().unwrap().contains("line 5: not JSON"));
}

#[test]
fn concurrent_rows_share_the_clients_rate_limit() {
    let sandbox = SandboxProcess::start();
    let dir = tempfile::tempdir().unwrap();
    // 45 return queries for one sub-merchant: over the sandbox's 30 QPS unless the client spaces
    // them (30 QPS documented), whatever the concurrency.
    let rows: String = (0..45).map(|i| format!("{OUT_ORDER_NO},R2099010100{i:02}\n")).collect();
    let csv = write(&dir, "returns.csv", &format!("out_order_no,out_return_no\n{rows}"));
    let before = sandbox.requests();
    let batch = args(
        &["cloudpay", "return-query", "--sub-mch-id", SUB_MCH, "--batch", &csv, "--concurrency", "32"],
        &sandbox.cloudpay_flags(),
    );
    let (stdout, stderr) = run(&batch, 3);
    let lines = lines(&stdout);
    assert_eq!(lines.len(), 45);
    assert!(lines.iter().all(|l| l["error"]["code"] == "ORDERNOTEXIST"), "no FREQUENCY_LIMITED: {stdout}");
    assert!(stderr.contains("API errors  45  (ORDERNOTEXIST 45)"), "{stderr}");
    assert_eq!(sandbox.requests() - before, 46, "one request per row, none retried, and this stats request");
}

#[test]
fn an_interrupted_batch_resumes_with_exactly_the_missing_rows() {
    let sandbox = SandboxProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let mut rows = format!("transaction_id,out_refund_no,offset\n{REFUND_ORDER},,\n");
    for offset in [0, 10, 20, 30] {
        rows.push_str(&format!("{ORDER_36},,{offset}\n"));
    }
    for n in 0..6 {
        rows.push_str(&format!(",R202611210000{n:02},\n"));
    }
    rows.push_str(",R20990101UNKNOWN,\n");
    let csv = write(&dir, "refunds.csv", &rows);
    let output = dir.path().join("out.jsonl").to_str().unwrap().to_owned();
    let batch = args(
        &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--batch", &csv, "--output", &output],
        &sandbox.cloudpay_flags(),
    );

    let before = sandbox.requests();
    let (stdout, _) = run(&batch, 3);
    assert_eq!(stdout, "");
    assert_eq!(sandbox.requests() - before, 12 + 1, "12 rows and this stats request");
    let full = std::fs::read_to_string(&output).unwrap();
    assert_eq!(full.lines().count(), 12);

    // Interrupted after 5 complete lines, in the middle of the 6th.
    let kept: Vec<&str> = full.split_inclusive('\n').collect();
    let sixth = kept[5];
    let truncated = format!("{}{}", kept[..5].concat(), &sixth[..sixth.len() / 2]);
    std::fs::write(&output, &truncated).unwrap();
    let kept_rows: BTreeSet<u64> = lines(&kept[..5].concat()).iter().map(|l| l["row"].as_u64().unwrap()).collect();

    let before = sandbox.requests();
    let (_, stderr) = run(&batch, 3);
    assert_eq!(sandbox.requests() - before, 7 + 1, "exactly the 7 missing rows were sent: {stderr}");
    assert!(stderr.contains("note: cut off a half-written last line"), "{stderr}");
    assert!(stderr.contains("batch: 12 rows, 7 sent, 5 skipped (already in "), "{stderr}");
    assert!(stderr.contains("API errors  1  (REFUNDNOTEXIST 1)"), "skipped rows count with their outcome: {stderr}");
    let resumed = std::fs::read_to_string(&output).unwrap();
    assert!(resumed.starts_with(&kept[..5].concat()), "the complete lines are kept as they were");
    let lines = lines(&resumed);
    assert_eq!(lines.len(), 12, "one line per row");
    let rows: Vec<u64> = lines.iter().map(|l| l["row"].as_u64().unwrap()).collect();
    assert_eq!(rows.iter().copied().collect::<BTreeSet<_>>(), (1..=12).collect(), "{rows:?}");
    let resent: BTreeSet<u64> = rows[5..].iter().copied().collect();
    assert!(resent.is_disjoint(&kept_rows), "no row was sent twice");
    // The rows' own values were sent again: the same keys, the same offsets.
    assert_eq!(line(&lines, 5)["input"]["offset"], "30");

    // Nothing is left: a third run sends nothing.
    let before = sandbox.requests();
    let (_, stderr) = run(&batch, 3);
    assert_eq!(sandbox.requests() - before, 1, "{stderr}");
    assert!(stderr.contains("batch: 12 rows, 0 sent, 12 skipped"), "{stderr}");
}

#[test]
fn transport_failures_exit_5_and_are_sent_again_on_resume() {
    let sandbox = SandboxProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = write(&dir, "one.csv", &format!("transaction_id\n{REFUND_ORDER}\n4299999999999999999999999999\n"));
    let output = dir.path().join("out.jsonl").to_str().unwrap().to_owned();
    let batch = |url: String| {
        args(
            &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--batch", &csv, "--output", &output],
            &["--cloudpay-url".into(), url, "--max-attempts".into(), "1".into()],
        )
    };
    let (_, stderr) = run(&batch(format!("http://127.0.0.1:{}", closed_port())), 5);
    assert!(stderr.contains("failed      2  (transport 2)"), "{stderr}");
    let first = lines(&std::fs::read_to_string(&output).unwrap());
    assert!(first.iter().all(|l| l["error"]["transport_kind"] == "connect" && l["error"]["retryable"] == true));

    // Retryable failures are not final: both rows are sent again, and the worst is now an API error.
    let before = sandbox.requests();
    let (_, stderr) = run(&batch(sandbox.http_url()), 3);
    assert_eq!(sandbox.requests() - before, 2 + 1, "{stderr}");
    assert!(stderr.contains("batch: 2 rows, 2 sent\n"), "{stderr}");
    let all = lines(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(all.len(), 4, "the failed attempts stay; the last line of a key wins");
    assert!(all[2..].iter().any(|l| l["result"]["transaction_id"] == REFUND_ORDER));
}

#[test]
fn unreadable_batch_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv").to_str().unwrap().to_owned();
    let (_, stderr) = run(&args(&["cloudpay", "finish", "--batch", &missing, "--sandbox"], &[]), 2);
    assert!(stderr.starts_with(&format!("error: cannot read the batch file {missing}\n")), "{stderr}");
    let duplicate = write(&dir, "dup.csv", "out_order_no,out_order_no\nP1,P2\n");
    let (_, stderr) = run(&args(&["cloudpay", "finish", "--batch", &duplicate, "--sandbox"], &[]), 2);
    assert!(stderr.contains("column `out_order_no` appears twice"), "{stderr}");
    let (_, stderr) = run(&args(&["cloudpay", "finish", "--output", "x.jsonl"], &[]), 2);
    assert!(stderr.contains("--batch"), "--output needs --batch: {stderr}");
}

#[test]
fn batch_runs_against_the_embedded_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        &dir,
        "finish.csv",
        &format!("transaction_id,out_order_no,description\n{TRANSACTION},P20261121B1,分账已完成\n"),
    );
    let (stdout, stderr) =
        run(&args(&["cloudpay", "finish", "--sub-mch-id", SUB_MCH, "--batch", &csv, "--sandbox"], &[]), 0);
    assert_eq!(lines(&stdout)[0]["result"]["order_id"], "3008450740201411110007820472");
    assert!(stderr.contains("  done        1\n"), "{stderr}");
}

#[test]
fn the_progress_bar_is_drawn_only_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(&dir, "two.csv", &format!("transaction_id\n{REFUND_ORDER}\n{ORDER_36}\n"));
    let batch = args(&["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--batch", &csv, "--sandbox"], &[]);
    let (_, stderr) = run(&batch, 0);
    assert!(!stderr.contains("2/2 rows"), "no bar when stderr is not a terminal: {stderr}");

    // util-linux `script` gives the command a terminal; without it, this half is not run.
    let command = std::iter::once(assert_cmd::cargo::cargo_bin!("wxpay").to_str().unwrap().to_owned())
        .chain(batch.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let Ok(output) = std::process::Command::new("script").args(["-qec", &command, "/dev/null"]).output() else {
        eprintln!("`script` is not installed: the terminal half of this test did not run");
        return;
    };
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{terminal}");
    assert!(terminal.contains("2/2 rows"), "a bar on a terminal: {terminal}");
}
