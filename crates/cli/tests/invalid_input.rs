//! Invalid input exits 2 and names the field and the rule.

mod common;

use common::{json_output, text_output};
use serde_json::json;

/// `cloudpay finish --dry-run` with valid fields, `overrides` replacing or adding flags.
fn finish<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<&'a str> {
    let mut flags = vec![
        ("--sub-mch-id", "1900000109"),
        ("--transaction-id", "4208450740201411110007820472"),
        ("--out-order-no", "P20150806125346"),
        ("--description", "分账已完成"),
    ];
    for &(flag, value) in overrides {
        match flags.iter_mut().find(|(f, _)| *f == flag) {
            Some(entry) => entry.1 = value,
            None => flags.push((flag, value)),
        }
    }
    let mut args = vec!["cloudpay", "finish", "--dry-run"];
    args.extend(flags.into_iter().flat_map(|(flag, value)| [flag, value]));
    args
}

/// Asserts that `args` exit 2 with `message` on standard error, nothing on standard output, and
/// that `--json` reports `field` and `rule` in the JSON error.
fn assert_invalid(args: &[&str], message: &str, field: &str, rule: &str) {
    let (stdout, stderr) = text_output(args, None, 2);
    assert_eq!(stdout, "");
    assert_eq!(stderr, format!("error: {message}\n"));
    let out = json_output(&[args, &["--json"]].concat(), None, 2);
    assert_eq!(out, json!({"error": {"kind": "invalid_input", "field": field, "rule": rule, "summary": message}}));
}

#[test]
fn too_long_out_order_no() {
    let long = "P".repeat(70);
    assert_invalid(
        &finish(&[("--out-order-no", &long)]),
        "invalid `out_order_no`: must be at most 64 bytes of UTF-8, got 70",
        "out_order_no",
        "must be at most 64 bytes of UTF-8, got 70",
    );
}

#[test]
fn bad_character_in_a_merchant_number() {
    assert_invalid(
        &finish(&[("--out-order-no", "P2015#1")]),
        "invalid `out_order_no`: character '#' at byte 5 is not allowed (allowed: ASCII letters, digits and _-|*@)",
        "out_order_no",
        "character '#' at byte 5 is not allowed (allowed: ASCII letters, digits and _-|*@)",
    );
}

#[test]
fn emoji_in_description() {
    let (_, stderr) = text_output(&finish(&[("--description", "分账完成🎉")]), None, 2);
    assert!(stderr.starts_with("error: invalid `description`: character '🎉' at byte 12 is not allowed"), "{stderr}");
    assert!(stderr.contains("no emoji or other 4-byte UTF-8"), "{stderr}");
}

#[test]
fn description_too_long_in_bytes() {
    let long = "分".repeat(27);
    assert_invalid(
        &finish(&[("--description", &long)]),
        "invalid `description`: must be at most 80 bytes of UTF-8, got 81",
        "description",
        "must be at most 80 bytes of UTF-8, got 81",
    );
}

#[test]
fn both_order_id_and_out_order_no() {
    let args = [
        "cloudpay",
        "return-query",
        "--dry-run",
        "--sub-mch-id",
        "1900000109",
        "--order-id",
        "3008450740201411110007820472",
        "--out-order-no",
        "P1",
        "--out-return-no",
        "R1",
    ];
    assert_invalid(
        &args,
        "invalid `order_id|out_order_no`: only one of order_id, out_order_no may be given",
        "order_id|out_order_no",
        "only one of order_id, out_order_no may be given",
    );
    let v3 = ["ecommerce", "return-query", "--dry-run", "--sub-mchid", "1", "--out-return-no", "R1"];
    assert_invalid(
        &v3,
        "invalid `order_id|out_order_no`: one of order_id, out_order_no is required",
        "order_id|out_order_no",
        "one of order_id, out_order_no is required",
    );
}

#[test]
fn none_of_the_refund_ids() {
    assert_invalid(
        &["cloudpay", "refund-query", "--dry-run", "--sub-mch-id", "1900000109"],
        "invalid `refund_id|out_refund_no|transaction_id|out_trade_no`: \
         one of refund_id, out_refund_no, transaction_id, out_trade_no is required",
        "refund_id|out_refund_no|transaction_id|out_trade_no",
        "one of refund_id, out_refund_no, transaction_id, out_trade_no is required",
    );
}

#[test]
fn negative_offset() {
    for offset in [&["--offset", "-1"][..], &["--offset=-1"]] {
        let args = [&["cloudpay", "refund-query", "--dry-run", "--sub-mch-id", "1", "--out-trade-no", "T1"], offset];
        assert_invalid(
            &args.concat(),
            "invalid `offset`: must be a non-negative decimal integer",
            "offset",
            "must be a non-negative decimal integer",
        );
    }
}

#[test]
fn invalid_lower_priority_refund_id_is_still_reported() {
    let args = ["cloudpay", "refund-query", "--dry-run", "--sub-mch-id", "1", "--refund-id", "5", "--out-trade-no"];
    let long = "T".repeat(33);
    assert_invalid(
        &[&args[..], &[long.as_str()]].concat(),
        "invalid `out_trade_no`: must be at most 32 bytes of UTF-8, got 33",
        "out_trade_no",
        "must be at most 32 bytes of UTF-8, got 33",
    );
}

#[test]
fn v3_sub_mchid_is_reported_under_its_v3_name() {
    assert_invalid(
        &[
            "ecommerce",
            "order-query",
            "--dry-run",
            "--sub-mchid",
            "19000-109",
            "--transaction-id",
            "1",
            "--out-order-no",
            "P",
        ],
        "invalid `sub_mchid`: character '-' at byte 5 is not allowed (allowed: ASCII letters and digits)",
        "sub_mchid",
        "character '-' at byte 5 is not allowed (allowed: ASCII letters and digits)",
    );
}

#[test]
fn bad_nonce_str() {
    assert_invalid(
        &finish(&[("--nonce-str", "abc_def")]),
        "invalid `nonce_str`: character '_' at byte 3 is not allowed (allowed: ASCII letters and digits)",
        "nonce_str",
        "character '_' at byte 3 is not allowed (allowed: ASCII letters and digits)",
    );
}

#[test]
fn missing_flag_names_the_flag_and_the_field() {
    let args = ["cloudpay", "return-query", "--dry-run", "--sub-mch-id", "1900000109", "--out-order-no", "P1"];
    let (stdout, stderr) = text_output(&args, None, 2);
    assert_eq!(stdout, "");
    assert_eq!(stderr, "error: missing --out-return-no (out_return_no)\n");
    let out = json_output(&[&args[..], &["--json"]].concat(), None, 2);
    assert_eq!(
        out,
        json!({"error": {
            "kind": "invalid_input",
            "field": "out_return_no",
            "flag": "--out-return-no",
            "rule": "required",
            "summary": "missing --out-return-no (out_return_no)",
        }})
    );
    let (_, stderr) = text_output(&["ecommerce", "order-query", "--dry-run"], None, 2);
    assert_eq!(stderr, "error: missing --sub-mchid (sub_mchid)\n");
}

#[test]
fn bad_base_urls() {
    let order_query = ["ecommerce", "order-query", "--dry-run", "--sub-mchid", "1", "--transaction-id", "2"];
    let order_query = [&order_query[..], &["--out-order-no", "P", "--base-url", "ftp://example.com"]].concat();
    assert_invalid(
        &order_query,
        "invalid `base_url`: must be a base URL: the scheme must be http or https",
        "base_url",
        "must be a base URL: the scheme must be http or https",
    );
    assert_invalid(
        &finish(&[("--cloudpay-url", "http://127.0.0.1/?q=1")]),
        "invalid `cloudpay_url`: must be a base URL: a base URL has no query or fragment",
        "cloudpay_url",
        "must be a base URL: a base URL has no query or fragment",
    );
}

#[test]
fn dry_run_and_decode_conflict() {
    let (_, stderr) = text_output(&["cloudpay", "finish", "--dry-run", "--decode", "-"], Some(b"{}"), 2);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
