//! Help, completions and the man page, generated from the clap definitions: required flags
//! marked, an EXAMPLES section on every operation, each family's endpoint flag only where it
//! applies, and text wrapped to the terminal's width.

mod common;

use common::{text_output, wxpay};

/// Every operation subcommand.
const OPERATIONS: [[&str; 2]; 5] = [
    ["cloudpay", "return-query"],
    ["cloudpay", "finish"],
    ["cloudpay", "refund-query"],
    ["ecommerce", "order-query"],
    ["ecommerce", "return-query"],
];

/// `wxpay ARGS --help` at a terminal `columns` wide.
fn help_text(args: &[&str], columns: usize) -> String {
    let args = [args, &["--help"]].concat();
    let output = wxpay(&args).env("COLUMNS", columns.to_string()).assert().code(0).get_output().clone();
    String::from_utf8(output.stdout).unwrap()
}

/// The help line of `flag` and the lines that continue it (up to the next flag).
fn flag_help(help: &str, flag: &str) -> String {
    let mut lines = help.lines().skip_while(|l| !l.trim_start().starts_with(flag));
    let first = lines.next().unwrap_or_else(|| panic!("no {flag} in:\n{help}"));
    // A flag's line is indented by at most 6 spaces (`  -v, --verbose`, `      --json`); the
    // lines that continue its help, more.
    let rest = lines.take_while(|l| l.len() - l.trim_start().len() > 6 && !l.trim().is_empty());
    std::iter::once(first).chain(rest).map(str::trim).collect::<Vec<_>>().join(" ")
}

#[test]
fn order_query_help_shows_examples_and_required_markers() {
    let help = help_text(&["ecommerce", "order-query"], 100);
    let examples = help.find("Examples:\n").unwrap_or_else(|| panic!("no examples:\n{help}"));
    assert!(help[examples..].contains("  wxpay ecommerce order-query "), "{help}");
    for flag in ["--sub-mchid", "--transaction-id", "--out-order-no"] {
        assert!(flag_help(&help, flag).ends_with("[required]"), "{flag}: {}", flag_help(&help, flag));
    }
    for flag in ["--mchid", "--merchant-serial", "--private-key"] {
        assert!(flag_help(&help, flag).contains("[required to send and with --dry-run]"), "{}", flag_help(&help, flag));
    }
    for optional in ["--public-key ", "--nonce", "--json", "--base-url"] {
        assert!(!flag_help(&help, optional).contains("[required"), "{}", flag_help(&help, optional));
    }
    assert!(help.contains("[required] marks what the operation needs"), "{help}");
    assert!(help.contains("WXPAY_PRIVATE_KEY_PEM"), "{help}");
}

#[test]
fn every_operation_has_examples_and_marks_its_required_fields() {
    for op in OPERATIONS {
        let help = help_text(&op, 120);
        assert!(help.contains(&format!("Examples:\n  wxpay {} {} ", op[0], op[1])), "{op:?}:\n{help}");
        assert!(help.contains("[required]"), "{op:?}:\n{help}");
    }
    let help = help_text(&["cloudpay", "return-query"], 120);
    assert!(flag_help(&help, "--order-id").ends_with("[required: this or --out-order-no]"), "{help}");
    let help = help_text(&["cloudpay", "refund-query"], 120);
    assert!(flag_help(&help, "--out-trade-no").ends_with("[required: one of the four ids]"), "{help}");
}

#[test]
fn each_family_shows_only_its_own_endpoint_flag() {
    for op in OPERATIONS {
        let help = help_text(&op, 120);
        let (own, other) =
            if op[0] == "cloudpay" { ("--cloudpay-url", "--base-url") } else { ("--base-url", "--cloudpay-url") };
        assert!(help.contains(own), "{op:?}:\n{help}");
        assert!(!help.contains(other), "{op:?}:\n{help}");
        // Given anyway, it is refused rather than ignored; its variable is not read.
        let (_, stderr) = text_output(&[&op[..], &[other, "http://127.0.0.1:1"]].concat(), None, 2);
        assert!(
            stderr.contains(&format!(
                "it applies to `wxpay {}` operations only",
                if op[0] == "cloudpay" { "ecommerce" } else { "cloudpay" }
            )),
            "{stderr}"
        );
    }
    let dry_run = [
        "cloudpay",
        "finish",
        "--dry-run",
        "--sub-mch-id",
        "1900000109",
        "--transaction-id",
        "4208450740201411110007820472",
        "--out-order-no",
        "P1",
        "--description",
        "d",
    ];
    let output = wxpay(&dry_run).env("WXPAY_BASE_URL", "http://127.0.0.1:1").assert().code(0).get_output().clone();
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("POST http://api.weixin.qq.com/"));
}

#[test]
fn help_is_wrapped_to_the_terminal_width() {
    for columns in [60, 100] {
        let help = help_text(&["ecommerce", "order-query"], columns);
        let widest = help.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest <= columns, "a line of {widest} columns at {columns}:\n{help}");
    }
    // Wider terminals get longer lines.
    let narrow = help_text(&["ecommerce", "order-query"], 60).lines().count();
    let wide = help_text(&["ecommerce", "order-query"], 100).lines().count();
    assert!(narrow > wide, "{narrow} lines at 60 columns, {wide} at 100");
}

#[test]
fn completions_name_every_subcommand() {
    let (script, _) = text_output(&["completions", "bash"], None, 0);
    let names = ["cloudpay", "ecommerce", "order-query", "return-query", "refund-query", "finish", "demo", "sandbox"];
    for name in names.into_iter().chain(["listen", "notify", "decode", "completions", "man"]) {
        assert!(script.contains(name), "{name} missing from the bash completions");
    }
    assert!(script.contains("complete -F _wxpay"), "not a bash completion script");
    assert!(script.contains("--sub-mchid") && script.contains("--private-key"), "flags are completed too");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (script, _) = text_output(&["completions", shell], None, 0);
        assert!(script.contains("order-query"), "{shell}: {script}");
    }
    let (_, stderr) = text_output(&["completions", "tcsh"], None, 2);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

#[test]
fn the_man_page_generates() {
    let (page, _) = text_output(&["man"], None, 0);
    assert!(page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH wxpay"), "not roff: {page}");
    assert!(page.contains(".TH wxpay 1"), "{page}");
    for name in ["cloudpay", "ecommerce", "completions", "listen", "notify", "sandbox", "demo", "\\-\\-verbose"] {
        assert!(page.contains(name), "{name} missing from the man page");
    }

    // One page per command, the operations' with their examples.
    let dir = tempfile::tempdir().unwrap();
    text_output(&["man", "--dir", dir.path().to_str().unwrap()], None, 0);
    let page = std::fs::read_to_string(dir.path().join("wxpay-ecommerce-order-query.1")).unwrap();
    assert!(page.contains("\\-\\-sub\\-mchid") && page.contains("[required]"), "{page}");
    assert!(page.contains("Examples:"), "{page}");
    assert!(dir.path().join("wxpay-cloudpay-finish.1").is_file());
    assert!(dir.path().join("wxpay-listen.1").is_file());
    assert!(dir.path().join("wxpay-notify-decode.1").is_file());
}

#[test]
fn notification_commands_show_only_the_flags_that_verify_and_decrypt() {
    for command in [&["listen"][..], &["notify", "decode"]] {
        let help = help_text(command, 100);
        assert!(help.contains("Verification and decryption:"), "{help}");
        for shown in ["--public-key ", "--public-key-id", "--platform-cert", "--apiv3-key-file"] {
            assert!(help.contains(shown), "{command:?} hides {shown}:\n{help}");
        }
        for hidden in ["--private-key", "--merchant-serial", "--mchid", "--timestamp", "--nonce ", "signing"] {
            assert!(!help.contains(hidden), "{command:?} shows {hidden}:\n{help}");
        }
    }
}
