//! `--json` gives every timestamp also as RFC 3339 with its offset (`<field>_rfc3339`), next
//! to the original string; tables align by display width (a Chinese character takes two
//! columns).

mod common;

use std::path::PathBuf;

use common::{json_output, text_output};
use serde_json::Value;

/// The path of a seed fixture, as a string argument.
fn seed(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "doc-examples", name].iter().collect();
    path.to_string_lossy().into_owned()
}

/// Asserts that `object[field]` is `original` and `object[field_rfc3339]` is `rfc3339`.
fn assert_time(object: &Value, field: &str, original: &str, rfc3339: &str) {
    assert_eq!(object[field], original, "{object}");
    assert_eq!(object[format!("{field}_rfc3339")], rfc3339, "{object}");
}

#[test]
fn every_time_format_gets_an_rfc3339_sibling() {
    // yyyyMMddHHmmss, China time.
    let out = json_output(
        &["cloudpay", "return-query", "--json", "--decode", &seed("000-cloudpay-return-query.json")],
        None,
        0,
    );
    assert_time(&out, "finish_time", "20180608170132", "2018-06-08T17:01:32+08:00");
    // yyyy-MM-dd HH:mm:ss, China time, in a list of refunds.
    let out = json_output(
        &["cloudpay", "refund-query", "--json", "--decode", &seed("004-cloudpay-refund-query.json")],
        None,
        0,
    );
    assert_time(
        &out["refunds"]["refunds"][0],
        "refund_success_time",
        "2016-07-25 15:26:26",
        "2016-07-25T15:26:26+08:00",
    );
    // RFC 3339 already: the same text.
    let out =
        json_output(&["ecommerce", "return-query", "--json", "--decode", &seed("001-v3-return-query.json")], None, 0);
    assert_time(&out, "finish_time", "2015-05-20T13:29:35.120+08:00", "2015-05-20T13:29:35.120+08:00");
    let out =
        json_output(&["ecommerce", "order-query", "--json", "--decode", &seed("003-v3-order-query.json")], None, 0);
    assert_time(&out["receivers"][0], "finish_time", "2015-05-20T13:29:35.120+08:00", "2015-05-20T13:29:35.120+08:00");
}

#[test]
fn absent_times_get_no_sibling() {
    let answer = std::fs::read_to_string(seed("000-cloudpay-return-query.json")).unwrap();
    let mut value: Value = serde_json::from_str(&answer).unwrap();
    value.as_object_mut().unwrap().remove("finish_time");
    value["result"] = "PROCESSING".into();
    let out =
        json_output(&["cloudpay", "return-query", "--json", "--decode", "-"], Some(value.to_string().as_bytes()), 0);
    assert_eq!(out["finish_time"], Value::Null, "{out}");
    assert!(out.get("finish_time_rfc3339").is_none(), "{out}");
}

#[test]
fn sent_answers_and_every_page_of_refunds_get_them_too() {
    let out = json_output(
        &[
            "cloudpay",
            "refund-query",
            "--sandbox",
            "--all-pages",
            "--json",
            "--sub-mch-id",
            "1900000109",
            "--transaction-id",
            "4200000000000000000000000036",
        ],
        None,
        0,
    );
    let refunds = out["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 36);
    let mut timed = 0;
    for refund in refunds {
        let Some(original) = refund["refund_success_time"].as_str() else {
            assert!(refund.get("refund_success_time_rfc3339").is_none(), "{refund}");
            continue;
        };
        let (date, time) = original.split_once(' ').unwrap();
        assert_time(refund, "refund_success_time", original, &format!("{date}T{time}+08:00"));
        timed += 1;
    }
    assert!(timed > 0, "no refund with a success time: {out}");
}

#[test]
fn tables_align_chinese_text_by_display_width() {
    // The seed's order with a second receiver whose account is Chinese text.
    let mut answer: Value =
        serde_json::from_str(&std::fs::read_to_string(seed("003-v3-order-query.json")).unwrap()).unwrap();
    let mut second = answer["receivers"][0].clone();
    second.as_object_mut().unwrap().remove("receiver_mchid");
    second["receiver_account"] = "商户甲的账户".into();
    answer["receivers"].as_array_mut().unwrap().push(second);
    let (stdout, _) =
        text_output(&["ecommerce", "order-query", "--decode", "-"], Some(answer.to_string().as_bytes()), 0);
    let rows: Vec<&str> = stdout.lines().skip_while(|l| !l.trim_start().starts_with("account")).take(3).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    // The `result` column starts at the same terminal column on every row: the Chinese account
    // (6 characters, 12 columns) is padded as 12 columns wide.
    let column_of = |row: &str| {
        let at = row.find(if row.contains("result") { "result" } else { "SUCCESS" }).unwrap();
        row[..at].chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>()
    };
    let columns: Vec<usize> = rows.iter().map(|r| column_of(r)).collect();
    assert!(columns.iter().all(|&c| c == columns[0]), "{columns:?}:\n{stdout}");
    assert!(rows[2].starts_with("  商户甲的账户  -"), "{stdout}");
}

#[test]
fn the_demo_json_has_them_too() {
    let out = json_output(&["demo", "--json"], None, 0);
    let answers: Vec<&Value> = out["operations"].as_array().unwrap().iter().map(|o| &o["answer"]).collect();
    let finished = answers.iter().find(|a| a["finish_time"] == "20180608170132").expect("a finished return");
    assert_eq!(finished["finish_time_rfc3339"], "2018-06-08T17:01:32+08:00");
    let with_times = answers.iter().filter(|a| a.get("finish_time_rfc3339").is_some()).count();
    assert!(with_times >= 2, "{out}");
}
