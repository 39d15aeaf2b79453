//! Send mode, run as the built binary against `wxpay sandbox`: every subcommand with table and
//! JSON output, every exit code, certificate mode with only the APIv3 key, the config file's
//! place in the precedence, and `--sandbox`.

mod common;

use common::sandbox::{
    CLOUDPAY_RETURN, ORDER_36, OUT_ORDER_NO, REFUND_ORDER, SUB_MCH, SandboxProcess, TRANSACTION, V3_RETURN, closed_port,
};
use common::wxpay;
use serde_json::Value;

/// `parts` and `flags` as one argument list.
fn args(parts: &[&str], flags: &[String]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).chain(flags.iter().cloned()).collect()
}

/// `args` with `flag` set to `value` (replaced where given, else appended).
fn set(mut args: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    match args.iter().position(|a| a == flag) {
        Some(at) => args[at + 1] = value.to_owned(),
        None => args.extend([flag.to_owned(), value.to_owned()]),
    }
    args
}

/// `args` without `flag` and its value.
fn without(mut args: Vec<String>, flag: &str) -> Vec<String> {
    let at = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("no {flag}"));
    args.drain(at..at + 2);
    args
}

/// Runs `wxpay args` with `env`, asserts the exit code, and returns stdout and stderr.
fn run_env(args: &[String], env: &[(&str, &str)], code: i32) -> (String, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = wxpay(&refs);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let output = cmd.assert().code(code).get_output().clone();
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Runs `wxpay args`, asserts the exit code, and returns stdout and stderr.
fn run(args: &[String], code: i32) -> (String, String) {
    run_env(args, &[], code)
}

/// Runs `wxpay args --json`, asserts the exit code, and parses stdout as one JSON line.
fn run_json(args: &[String], code: i32) -> Value {
    let (stdout, stderr) = run(&[args, &["--json".to_owned()]].concat(), code);
    assert_eq!(stdout.lines().count(), 1, "one JSON line expected, got {stdout:?} (stderr {stderr:?})");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:?}"))
}

/// The cells of the table row whose key is `key`.
fn row<'a>(table: &'a str, key: &str) -> Option<&'a str> {
    table.lines().find_map(|l| l.strip_prefix(key).filter(|rest| rest.starts_with(' ')).map(str::trim))
}

const RETURN_QUERY: &[&str] =
    &["cloudpay", "return-query", "--sub-mch-id", SUB_MCH, "--out-order-no", OUT_ORDER_NO, "--out-return-no"];
const FINISH: &[&str] = &[
    "cloudpay",
    "finish",
    "--sub-mch-id",
    SUB_MCH,
    "--transaction-id",
    TRANSACTION,
    "--out-order-no",
    "P20261121CLI1",
    "--description",
    "分账已完成",
];
const ORDER_QUERY: &[&str] = &[
    "ecommerce",
    "order-query",
    "--sub-mchid",
    SUB_MCH,
    "--transaction-id",
    TRANSACTION,
    "--out-order-no",
    OUT_ORDER_NO,
];
const V3_RETURN_QUERY: &[&str] = &[
    "ecommerce",
    "return-query",
    "--sub-mchid",
    SUB_MCH,
    "--out-order-no",
    OUT_ORDER_NO,
    "--out-return-no",
    V3_RETURN,
];

#[test]
fn cloudpay_return_query_settles_table_then_json() {
    let sandbox = SandboxProcess::start();
    let query = args(&[RETURN_QUERY, &[CLOUDPAY_RETURN]].concat(), &sandbox.cloudpay_flags());
    let (table, stderr) = run(&query, 0);
    assert_eq!(stderr, "");
    assert_eq!(row(&table, "result"), Some("PROCESSING"), "{table}");
    assert_eq!(row(&table, "out_return_no"), Some(CLOUDPAY_RETURN), "{table}");
    assert_eq!(row(&table, "return_amount"), Some("888 (8.88 yuan)"), "{table}");
    let answer = run_json(&query, 0);
    assert_eq!(answer["result"], "SUCCESS");
    assert_eq!(answer["return_amount"], 888);
    assert_eq!(answer["order_id"], TRANSACTION);
    assert_eq!(answer["return_no"], "3008450740201411110007820472");
    assert_eq!(answer["sub_mch_id"], SUB_MCH);
}

#[test]
fn cloudpay_finish_is_idempotent_on_out_order_no() {
    let sandbox = SandboxProcess::start();
    let finish = args(FINISH, &sandbox.cloudpay_flags());
    let (table, _) = run(&finish, 0);
    assert_eq!(row(&table, "accepted"), Some("yes (query the order for the outcome)"), "{table}");
    assert_eq!(row(&table, "order_id"), Some("3008450740201411110007820472"), "{table}");
    assert_eq!(row(&table, "receiver"), Some("MERCHANT_ID 190001001"), "{table}");
    let answer = run_json(&finish, 0);
    assert_eq!(answer["transaction_id"], TRANSACTION);
    assert_eq!(answer["out_order_no"], "P20261121CLI1");
    assert_eq!(answer["receiver"]["account"], "190001001");
    // Another number for a finished payment is refused.
    let other = set(finish, "--out-order-no", "P20261121CLI2");
    let error = run_json(&other, 3);
    assert_eq!(error["error"]["code"], "AMOUNT_OVERDUE");
    assert_eq!(error["error"]["retryable"], false);
}

#[test]
fn cloudpay_refund_query_one_page_offset_and_all_pages() {
    let sandbox = SandboxProcess::start();
    let one = args(
        &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--transaction-id", REFUND_ORDER],
        &sandbox.cloudpay_flags(),
    );
    let (table, _) = run(&one, 0);
    assert_eq!(row(&table, "transaction_id"), Some(REFUND_ORDER), "{table}");
    assert_eq!(row(&table, "refunds"), Some("1 listed"), "{table}");
    assert!(table.contains("100 (1.00 yuan)  SUCCESS"), "{table}");
    let answer = run_json(&one, 0);
    assert_eq!(answer["refund_count"], 1);
    assert_eq!(answer["refunds"]["refunds"][0]["refund_id"], REFUND_ORDER);
    assert_eq!(answer["refunds"]["refunds"][0]["coupons"][0]["coupon_refund_id"], "10000");

    let page = |offset: &str| {
        args(
            &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--transaction-id", ORDER_36, "--offset", offset],
            &sandbox.cloudpay_flags(),
        )
    };
    let answer = run_json(&page("30"), 0);
    assert_eq!(answer["total_refund_count"], 36);
    let refunds = answer["refunds"]["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 6);
    assert_eq!(refunds[0]["out_refund_no"], "R20261121000030");
    // An offset past the total is the API's PARAM_ERROR.
    assert_eq!(run_json(&page("36"), 3)["error"]["code"], "PARAM_ERROR");

    let all = args(
        &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--transaction-id", ORDER_36, "--all-pages"],
        &sandbox.cloudpay_flags(),
    );
    let (table, _) = run(&all, 0);
    assert_eq!(row(&table, "refund_count"), Some("36"), "{table}");
    assert_eq!(row(&table, "refunds"), Some("36 listed (all pages)"), "{table}");
    assert!(table.contains("R20261121000035"), "{table}");
    let answer = run_json(&all, 0);
    assert_eq!(answer["refund_count"], 36);
    let refunds = answer["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 36);
    assert_eq!(refunds[35]["refund_id"], "5030000000000000000000000035");
    assert_eq!(refunds[35]["refund_status"], "PROCESSING");
    assert_eq!(answer["refund_fee_total"], refunds.iter().map(|r| r["refund_fee"].as_u64().unwrap()).sum::<u64>());
}

#[test]
fn ecommerce_order_query_with_the_public_key_settles() {
    let sandbox = SandboxProcess::start();
    let query = args(ORDER_QUERY, &sandbox.v3_flags());
    let (table, stderr) = run(&query, 0);
    assert_eq!(stderr, "");
    assert_eq!(row(&table, "status"), Some("PROCESSING"), "{table}");
    assert_eq!(row(&table, "order_id"), Some("3008450740201411110007820472"), "{table}");
    assert!(table.contains("1900000110"), "the receiver is listed: {table}");
    let answer = run_json(&query, 0);
    assert_eq!(answer["status"], "FINISHED");
    assert_eq!(answer["finish_amount"], 100);
    assert_eq!(answer["receivers"][0]["receiver_mchid"], "1900000110");
    assert_eq!(answer["receivers"][0]["result"], "SUCCESS");
}

#[test]
fn ecommerce_return_query_in_certificate_mode_with_only_the_apiv3_key() {
    let sandbox = SandboxProcess::start();
    let before = sandbox.requests();
    let flags = [sandbox.merchant_flags(), vec!["--apiv3-key-file".into(), sandbox.file("apiv3_key")]].concat();
    let query = args(V3_RETURN_QUERY, &flags);
    let (table, stderr) = run(&query, 0);
    assert_eq!(row(&table, "result"), Some("PROCESSING"), "{table}");
    assert_eq!(row(&table, "amount"), Some("10 (0.10 yuan)"), "{table}");
    assert_eq!(row(&table, "return_mchid"), Some("86693852"), "{table}");
    // The certificate download, then the query.
    assert_eq!(sandbox.requests() - before, 3, "certificates + return query + this stats request");
    let answer = run_json(&query, 0);
    assert_eq!(answer["result"], "SUCCESS");
    assert_eq!(answer["out_return_no"], V3_RETURN);
    assert_eq!(answer["order_id"], "3008450740201411110007820472");
    // A platform certificate file verifies too, without a download.
    let flags = [sandbox.merchant_flags(), vec!["--platform-cert".into(), sandbox.file("platform_cert")]].concat();
    let before = sandbox.requests();
    assert_eq!(run_json(&args(V3_RETURN_QUERY, &flags), 0)["result"], "SUCCESS");
    assert_eq!(sandbox.requests() - before, 2, "the return query and this stats request");
    let apiv3_key = std::fs::read_to_string(sandbox.file("apiv3_key")).unwrap();
    for output in [&table, &stderr, &answer.to_string()] {
        assert!(!output.contains(apiv3_key.trim()), "the APIv3 key is never printed");
    }
}

#[test]
fn exit_3_api_errors_show_code_message_and_request_id() {
    let sandbox = SandboxProcess::start();
    let unknown = set(args(ORDER_QUERY, &sandbox.v3_flags()), "--out-order-no", "P20990101UNKNOWN");
    let (stdout, stderr) = run(&unknown, 3);
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: API v3 error RESOURCE_NOT_EXISTS: "), "{stderr}");
    assert!(stderr.contains("HTTP 404"), "{stderr}");
    assert!(stderr.contains("Request-ID SBX"), "{stderr}");
    assert!(stderr.contains("retry: final"), "{stderr}");
    let error = &run_json(&unknown, 3)["error"];
    assert_eq!(error["kind"], "api");
    assert_eq!(error["code"], "RESOURCE_NOT_EXISTS");
    assert_eq!(error["status"], 404);
    assert!(error["request_id"].as_str().unwrap().starts_with("SBX"), "{error}");
    assert!(!error["message"].as_str().unwrap().is_empty());
    assert_eq!(error["retryable"], false);

    let refund = args(
        &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--out-refund-no", "R20990101UNKNOWN"],
        &sandbox.cloudpay_flags(),
    );
    let (_, stderr) = run(&refund, 3);
    assert!(stderr.contains("REFUNDNOTEXIST"), "{stderr}");
    let error = &run_json(&refund, 3)["error"];
    assert_eq!(
        (error["kind"].as_str(), error["code"].as_str(), error["status"].as_u64()),
        (Some("api"), Some("REFUNDNOTEXIST"), Some(200))
    );

    let ret = args(&[RETURN_QUERY, &["R20990101UNKNOWN"]].concat(), &sandbox.cloudpay_flags());
    assert_eq!(run_json(&ret, 3)["error"]["code"], "ORDERNOTEXIST");
}

#[test]
fn exit_4_a_wrong_signature_is_refused() {
    let sandbox = SandboxProcess::start();
    let fault = r#"{"operation":"ecommerce/profitsharing/orders","fault":{"kind":"wrong_signature"},"count":1}"#;
    let query = args(ORDER_QUERY, &sandbox.v3_flags());
    sandbox.inject(fault);
    let (stdout, stderr) = run(&query, 4);
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: unverifiable response (HTTP 200)\ncaused by: bad signature"), "{stderr}");
    sandbox.inject(fault);
    let error = &run_json(&query, 4)["error"];
    assert_eq!(error["kind"], "unverifiable");
    assert!(error["request_id"].as_str().unwrap().starts_with("SBX"), "{error}");
    // The forged answer was not retried; the next one is fine.
    run(&query, 0);
}

#[test]
fn exit_5_connection_refused_and_untrusted_tls() {
    let sandbox = SandboxProcess::start();
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let finish = args(FINISH, &["--cloudpay-url".into(), closed.clone(), "--max-attempts".into(), "2".into()]);
    let (stdout, stderr) = run(&finish, 5);
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: transport failure (connect): could not connect after 2 attempts\n"), "{stderr}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("outcome unknown"), "nothing was sent: {stderr}");
    let error = &run_json(&finish, 5)["error"];
    assert_eq!(error["kind"], "transport");
    assert_eq!(error["transport_kind"], "connect");
    assert_eq!(error["outcome_unknown"], false);
    assert_eq!(error["retryable"], true);
    assert_eq!(error["attempts"], 2);
    assert_eq!(error["request_id"], serde_json::Value::Null, "no answer, no Request-ID");

    // Plain http is fine for a loopback v3 endpoint; nothing listens there.
    let v3 = set(set(args(ORDER_QUERY, &sandbox.v3_flags()), "--base-url", &closed), "--max-attempts", "1");
    assert_eq!(run_json(&v3, 5)["error"]["transport_kind"], "connect");

    // Without --ca-cert the sandbox's certificate is not trusted.
    let error = &run_json(&without(args(ORDER_QUERY, &sandbox.v3_flags()), "--ca-cert"), 5)["error"];
    assert_eq!((error["transport_kind"].as_str(), error["retryable"].as_bool()), (Some("tls"), Some(false)));
}

#[test]
fn exit_5_timeouts_and_a_finish_whose_outcome_is_unknown() {
    let sandbox = SandboxProcess::start();
    let quick = ["--request-timeout".to_owned(), "0.3".to_owned(), "--max-attempts".to_owned(), "1".to_owned()];
    let query = args(ORDER_QUERY, &[sandbox.v3_flags(), quick.to_vec()].concat());
    sandbox.inject(r#"{"operation":"ecommerce/profitsharing/orders","fault":{"kind":"delay","ms":1500}}"#);
    let error = &run_json(&query, 5)["error"];
    assert_eq!(error["kind"], "transport");
    assert_eq!(error["transport_kind"], "timeout");
    assert_eq!(error["outcome_unknown"], false, "a query is not a write");

    let finish = args(FINISH, &[sandbox.cloudpay_flags(), quick.to_vec()].concat());
    let fault = r#"{"operation":"profitsharingfinish","fault":{"kind":"delay","ms":1500}}"#;
    sandbox.inject(fault);
    let (stdout, stderr) = run(&finish, 5);
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: transport failure (timeout): timed out after 1 attempt\n"), "{stderr}");
    assert!(
        stderr
            .contains("outcome unknown: the finish may have taken effect; query or resend with the same out_order_no"),
        "{stderr}"
    );
    sandbox.inject(fault);
    let error = &run_json(&finish, 5)["error"];
    assert_eq!(error["outcome_unknown"], true);
    assert_eq!(error["retryable"], true);
    // Resending with the same out_order_no gets the finish's answer.
    assert_eq!(run_json(&args(FINISH, &sandbox.cloudpay_flags()), 0)["order_id"], "3008450740201411110007820472");
}

#[test]
fn exit_2_before_anything_is_sent() {
    let sandbox = SandboxProcess::start();
    let before = sandbox.requests();
    // Plain http to a host that is not loopback.
    let remote = set(args(ORDER_QUERY, &sandbox.v3_flags()), "--base-url", "http://example.com");
    let (stdout, stderr) = run(&remote, 2);
    assert_eq!(stdout, "");
    // The rule is the protocol's, checked where the client configuration is built.
    assert!(stderr.starts_with("error: invalid `base_url`: must use https for API v3 and v2"), "{stderr}");
    let error = &run_json(&remote, 2)["error"];
    assert_eq!((error["kind"].as_str(), error["field"].as_str()), (Some("invalid_input"), Some("base_url")));
    assert!(error["rule"].as_str().unwrap().contains("plain http only to a loopback address"), "{error}");
    // No key to verify answers with.
    let (_, stderr) = run(&args(ORDER_QUERY, &sandbox.merchant_flags()), 2);
    assert!(
        stderr.starts_with("error: no key to verify API v3 answers with: give --public-key with --public-key-id"),
        "{stderr}"
    );
    assert!(stderr.contains("--platform-cert") && stderr.contains("--apiv3-key-file"), "{stderr}");
    // No merchant id.
    let (_, stderr) = run(&without(args(ORDER_QUERY, &sandbox.v3_flags()), "--mchid"), 2);
    assert_eq!(stderr, "error: missing --mchid (env WXPAY_MCHID)\n");
    // A field that breaks a rule.
    let bad = set(args(ORDER_QUERY, &sandbox.v3_flags()), "--out-order-no", "P#1");
    assert_eq!(run_json(&bad, 2)["error"]["field"], "out_order_no");
    // A --ca-cert that holds no certificate.
    let not_pem =
        args(FINISH, &[sandbox.cloudpay_flags(), vec!["--ca-cert".into(), sandbox.file("apiv3_key")]].concat());
    let (_, stderr) = run(&not_pem, 2);
    assert!(stderr.starts_with("error: invalid --ca-cert "), "{stderr}");
    assert_eq!(sandbox.requests() - before, 1, "only this stats request reached the sandbox");
}

#[test]
fn config_file_is_below_flags_and_environment() {
    let sandbox = SandboxProcess::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    for name in ["merchant_private_key", "wechatpay_public_key", "tls_ca_cert"] {
        std::fs::copy(sandbox.file(name), dir.path().join("keys").join(format!("{name}.pem"))).unwrap();
    }
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let write_config = |base_url: &str, extra: &str| {
        let text = format!(
            "# the sandbox's merchant\nmchid = \"{}\"\nmerchant_serial = \"{}\"\n\
             private_key = \"keys/merchant_private_key.pem\"\npublic_key = \"keys/wechatpay_public_key.pem\"\n\
             public_key_id = \"{}\"\nca_cert = \"keys/tls_ca_cert.pem\"\nbase_url = \"{base_url}\"\n\
             cloudpay_url = \"{}\"\n{extra}",
            sandbox.get("mchid"),
            sandbox.get("merchant_serial"),
            sandbox.get("public_key_id"),
            sandbox.http_url(),
        );
        let path = dir.path().join("wxpay.toml");
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let quick = ["--max-attempts".to_owned(), "1".to_owned()];

    // Everything from the file (relative paths from its directory).
    let config = write_config(&sandbox.https_url(), "");
    let query = args(V3_RETURN_QUERY, &["--config".into(), config.clone()]);
    assert_eq!(run_json(&query, 0)["out_return_no"], V3_RETURN);
    // ... also when named by WXPAY_CONFIG, and for CloudPay.
    let (table, _) = run_env(&args(FINISH, &[]), &[("WXPAY_CONFIG", &config)], 0);
    assert_eq!(row(&table, "transaction_id"), Some(TRANSACTION), "{table}");

    // The file names a closed port: the environment wins over it, a flag over both.
    let config = write_config(&closed, "");
    let query = args(V3_RETURN_QUERY, &[vec!["--config".into(), config.clone()], quick.to_vec()].concat());
    assert_eq!(run_json(&query, 5)["error"]["transport_kind"], "connect");
    run_env(&query, &[("WXPAY_BASE_URL", &sandbox.https_url())], 0);
    let flagged = [query.clone(), vec!["--base-url".into(), closed.clone()]].concat();
    run_env(&flagged, &[("WXPAY_BASE_URL", &sandbox.https_url())], 5);
    let flagged = args(
        V3_RETURN_QUERY,
        &["--config".into(), write_config(&closed, ""), "--base-url".into(), sandbox.https_url()],
    );
    run(&flagged, 0);

    // An unknown key is named, with its line, and its value is not quoted.
    let config = write_config(&sandbox.https_url(), "apiv3_key = \"0123456789abcdef0123456789abcdef\"\n");
    let (stdout, stderr) = run(&args(V3_RETURN_QUERY, &["--config".into(), config.clone()]), 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(&format!("error: invalid config file {config} (line 10): unknown field `apiv3_key`")),
        "{stderr}"
    );
    assert!(!stderr.contains("0123456789abcdef"), "{stderr}");
    let error = &run_json(&args(V3_RETURN_QUERY, &["--config".into(), config]), 2)["error"];
    assert_eq!((error["kind"].as_str(), error["line"].as_u64()), (Some("invalid_input"), Some(10)));
    // A value of the wrong type names its line, not the value (a secret in the wrong key).
    let config = write_config(&sandbox.https_url(), "request_timeout = \"0123456789abcdef\"\n");
    let (_, stderr) = run(&args(V3_RETURN_QUERY, &["--config".into(), config.clone()]), 2);
    assert!(stderr.starts_with(&format!("error: invalid config file {config} (line 10): invalid type")), "{stderr}");
    assert!(!stderr.contains("0123456789abcdef"), "{stderr}");
    // Timeouts from the file, and a bad one from the environment, named and not quoted.
    let config = write_config(&sandbox.https_url(), "request_timeout = 20\nconnect_timeout = 2.5\n");
    let query = args(V3_RETURN_QUERY, &["--config".into(), config.clone()]);
    assert_eq!(run_json(&query, 0)["out_return_no"], V3_RETURN);
    let (_, stderr) = run_env(&query, &[("WXPAY_CONNECT_TIMEOUT", "s3cr3t")], 2);
    assert_eq!(
        stderr,
        "error: invalid setting connect_timeout (env WXPAY_CONNECT_TIMEOUT): must be a number of seconds\n"
    );
    // A file that cannot be read.
    let missing = dir.path().join("missing.toml").to_str().unwrap().to_owned();
    let (_, stderr) = run(&args(FINISH, &["--config".into(), missing.clone()]), 2);
    assert!(stderr.starts_with(&format!("error: cannot read the config file {missing}\n")), "{stderr}");
}

#[test]
fn sandbox_flag_runs_every_operation_against_an_embedded_sandbox() {
    let sandbox = ["--sandbox".to_owned()];
    let (table, stderr) = run(&args(ORDER_QUERY, &sandbox), 0);
    assert_eq!(row(&table, "status"), Some("PROCESSING"), "a fresh sandbox per run: {table}");
    assert!(stderr.starts_with("note: --sandbox: sending to an embedded sandbox (http://127.0.0.1:"), "{stderr}");
    assert_eq!(run_json(&args(V3_RETURN_QUERY, &sandbox), 0)["return_mchid"], "86693852");
    assert_eq!(run_json(&args(&[RETURN_QUERY, &[CLOUDPAY_RETURN]].concat(), &sandbox), 0)["result"], "PROCESSING");
    assert_eq!(run_json(&args(FINISH, &sandbox), 0)["order_id"], "3008450740201411110007820472");
    let refunds = args(
        &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--out-trade-no", "T20261121000036", "--all-pages"],
        &sandbox,
    );
    assert_eq!(run_json(&refunds, 0)["refund_count"], 36);
    // Endpoints from the environment are replaced by the sandbox's.
    run_env(&args(ORDER_QUERY, &sandbox), &[("WXPAY_BASE_URL", "https://example.com")], 0);
}
