//! No byte of a secret (a private key, an APIv3 key, a file's contents) reaches any output,
//! whatever the input: a PEM or an APIv3 key given where a path is expected (through a flag, a
//! variable or the config file), corrupt key files, text and `--json`, and the most verbose
//! logs (`-vv`, `RUST_LOG=trace`). The variables made for contents (`WXPAY_PRIVATE_KEY_PEM`,
//! `WXPAY_APIV3_KEY`) work like the files.

mod common;

use common::sandbox::{OUT_ORDER_NO, SUB_MCH, SandboxProcess, TRANSACTION};
use common::{MCHID, MERCHANT_SERIAL, private_key_path, vector_text, wxpay};

/// `ecommerce order-query --dry-run` with valid fields and fixed signing inputs.
const DRY_RUN: &[&str] = &[
    "ecommerce",
    "order-query",
    "--dry-run",
    "--sub-mchid",
    "1900000109",
    "--transaction-id",
    "4208450740201411110007820472",
    "--out-order-no",
    "P20150806125346",
    "--timestamp",
    "1554208460",
    "--nonce",
    "593BEC0C930BF1AFEB40B4A08C8FB242",
    "--mchid",
    MCHID,
    "--merchant-serial",
    MERCHANT_SERIAL,
];

/// An APIv3 key (WeChat Pay's SDK test vector).
fn apiv3_key() -> String {
    vector_text("java-sdk-certificates", "apiv3_key").trim().to_owned()
}

/// Pieces of a secret that must appear in no output: each base64 line of a PEM, 16-character
/// windows of its body (a key printed re-wrapped or in part), and for a short secret (an APIv3
/// key) every 12-character window.
fn fragments(secret: &str) -> Vec<String> {
    let lines: Vec<&str> = secret.lines().filter(|l| !l.starts_with("-----") && !l.trim().is_empty()).collect();
    let body = lines.concat();
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let bytes = body.as_bytes();
    let window = if bytes.len() > 64 { 16 } else { 12 };
    let step = if bytes.len() > 64 { 8 } else { 1 };
    out.extend(
        (0..bytes.len().saturating_sub(window - 1))
            .step_by(step)
            .map(|at| String::from_utf8_lossy(&bytes[at..at + window]).into_owned()),
    );
    assert!(!out.is_empty(), "a secret to look for");
    out
}

/// Asserts that nothing of `secret` is in `output` (both streams).
fn assert_hidden(output: &std::process::Output, secret: &str, what: &str) {
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        for fragment in fragments(secret) {
            assert!(!text.contains(&fragment), "{what}: secret fragment {fragment:?} in the output:\n{text}");
        }
    }
}

/// How a value reaches the CLI where a path is expected.
#[derive(Debug, Clone, Copy)]
enum Via {
    Flag,
    Variable,
    ConfigFile,
}

/// One wrong input: the flag, its variable, its config key, and the secret given as its value.
struct Wrong {
    flag: &'static str,
    env: &'static str,
    key: &'static str,
    secret: String,
}

/// Runs the dry run with `wrong` given `via`, in text and `--json`; returns both outputs.
fn run_wrong(wrong: &Wrong, via: Via, extra: &[&str]) -> Vec<std::process::Output> {
    let key = private_key_path();
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for json in [false, true] {
        let mut args: Vec<String> = DRY_RUN.iter().map(|s| (*s).to_owned()).collect();
        if !matches!(via, Via::ConfigFile) {
            args.extend(extra.iter().map(|s| (*s).to_owned()));
        }
        if wrong.flag != "--private-key" {
            args.extend(["--private-key".to_owned(), key.clone()]);
        }
        if json {
            args.push("--json".to_owned());
        }
        let mut env: Vec<(&str, String)> = Vec::new();
        match via {
            Via::Flag => args.extend([wrong.flag.to_owned(), wrong.secret.clone()]),
            Via::Variable => env.push((wrong.env, wrong.secret.clone())),
            Via::ConfigFile => {
                let config = dir.path().join("wxpay.toml");
                let value = toml_string(&wrong.secret);
                let mut line = if wrong.key == "platform_certs" {
                    format!("{} = [{value}]\n", wrong.key)
                } else {
                    format!("{} = {value}\n", wrong.key)
                };
                // The config file's public key comes with its id.
                for pair in extra.chunks(2) {
                    line.push_str(&format!(
                        "{} = \"{}\"\n",
                        pair[0].trim_start_matches("--").replace('-', "_"),
                        pair[1]
                    ));
                }
                std::fs::write(&config, line).unwrap();
                args.extend(["--config".to_owned(), config.to_str().unwrap().to_owned()]);
            }
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = wxpay(&refs);
        for (name, value) in &env {
            cmd.env(name, value);
        }
        let output = cmd.assert().code(2).get_output().clone();
        assert_hidden(&output, &wrong.secret, &format!("{} via {via:?} (json {json})", wrong.flag));
        outputs.push(output);
    }
    outputs
}

/// A TOML basic string holding `s` (multi-line when it has line breaks).
fn toml_string(s: &str) -> String {
    if s.contains('\n') { format!("\"\"\"\n{s}\"\"\"") } else { format!("\"{s}\"") }
}

#[test]
fn a_pem_or_an_apiv3_key_where_a_path_is_expected_is_refused_and_never_shown() {
    let pem = std::fs::read_to_string(private_key_path()).unwrap();
    let apiv3 = apiv3_key();
    let wrongs = [
        Wrong { flag: "--private-key", env: "WXPAY_PRIVATE_KEY", key: "private_key", secret: pem.clone() },
        Wrong { flag: "--private-key", env: "WXPAY_PRIVATE_KEY", key: "private_key", secret: apiv3.clone() },
        Wrong { flag: "--apiv3-key-file", env: "WXPAY_APIV3_KEY_FILE", key: "apiv3_key_file", secret: apiv3.clone() },
        Wrong { flag: "--apiv3-key-file", env: "WXPAY_APIV3_KEY_FILE", key: "apiv3_key_file", secret: pem.clone() },
        Wrong { flag: "--public-key", env: "WXPAY_PUBLIC_KEY", key: "public_key", secret: pem.clone() },
        Wrong { flag: "--platform-cert", env: "", key: "platform_certs", secret: pem.clone() },
    ];
    for wrong in &wrongs {
        let mut vias = vec![Via::Flag, Via::ConfigFile];
        if !wrong.env.is_empty() {
            vias.push(Via::Variable);
        }
        let extra: &[&str] = if wrong.flag == "--public-key" {
            &["--public-key-id", "PUB_KEY_ID_0000000000000024101100397200000006"]
        } else {
            &[]
        };
        for via in vias {
            let outputs = run_wrong(wrong, via, extra);
            let text = String::from_utf8_lossy(&outputs[0].stderr);
            assert!(text.starts_with(&format!("error: invalid {}", wrong.flag)), "{text}");
            assert!(text.contains("looks like key content, not a path"), "{via:?}: {text}");
            let json: serde_json::Value = serde_json::from_slice(&outputs[1].stdout).unwrap();
            assert_eq!(json["error"]["flag"], wrong.flag, "{json}");
            assert_eq!(json["error"]["file"], serde_json::Value::Null, "the value is not a file to name: {json}");
        }
    }
}

#[test]
fn other_path_flags_do_not_echo_secrets_either() {
    let pem = std::fs::read_to_string(private_key_path()).unwrap();
    let key = private_key_path();
    // The CA certificate flag and the config file's own path, given contents.
    for (flag, env) in [("--ca-cert", "WXPAY_CA_CERT"), ("--config", "WXPAY_CONFIG")] {
        for secret in [pem.clone(), apiv3_key(), format!("private_key = \"{}\"\n", apiv3_key())] {
            for json in [false, true] {
                let mut args = vec!["ecommerce", "order-query", "--sandbox", "--sub-mchid", "1", "--private-key", &key];
                args.extend(["--transaction-id", "4208450740201411110007820472", "--out-order-no", "P1"]);
                if json {
                    args.push("--json");
                }
                let via_flag = [&args[..], &[flag, &secret]].concat();
                let output = wxpay(&via_flag).assert().code(2).get_output().clone();
                assert_hidden(&output, &secret, flag);
                let output = wxpay(&args).env(env, &secret).assert().code(2).get_output().clone();
                assert_hidden(&output, &secret, env);
                // Help shows which variables are set, never their values.
                let output = wxpay(&["ecommerce", "order-query", "--help"]).env(env, &secret).output().unwrap();
                assert!(output.status.success());
                assert_hidden(&output, &secret, &format!("{env} in --help"));
            }
        }
    }
}

#[test]
fn a_key_pasted_without_its_flag_is_not_quoted_by_the_usage_error() {
    let pem = std::fs::read_to_string(private_key_path()).unwrap();
    let apiv3 = apiv3_key();
    for secret in [&pem, &apiv3] {
        // The key as an unexpected argument (named, hidden), and as the value of a flag this
        // operation does not have (clap names the flag only).
        for (args, quoted) in [
            ([DRY_RUN, &[secret.as_str()]].concat(), true),
            (vec!["ecommerce", secret.as_str()], true),
            ([DRY_RUN, &["--nonce-str", secret.as_str()]].concat(), false),
        ] {
            let output = wxpay(&args).assert().code(2).get_output().clone();
            assert_hidden(&output, secret, "a usage error");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.starts_with("error: "), "{stderr}");
            assert_eq!(stderr.contains("<value not shown: it looks like key content>"), quoted, "{stderr}");
        }
    }
    // Help and version still go to standard output, exit 0.
    let output = wxpay(&["--version"]).assert().code(0).get_output().clone();
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("wxpay "));
}

#[test]
fn corrupt_files_are_named_and_their_contents_never_shown() {
    let pem = std::fs::read_to_string(private_key_path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    // The key with a byte that is not UTF-8 in its body; the key on its BEGIN line; an APIv3
    // key one byte too long; a config file whose key of the wrong type holds the key.
    let mut not_utf8 = pem.clone().into_bytes();
    not_utf8[100] = 0xFF;
    let not_utf8 = write("not-utf8.pem", &not_utf8);
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let one_line = write("one-line.pem", format!("-----BEGIN PRIVATE KEY-----{body}\n").as_bytes());
    let long_key = format!("{}X", apiv3_key());
    let too_long = write("apiv3.key", long_key.as_bytes());
    let wrong_type = write("wxpay.toml", format!("platform_certs = {}\n", toml_string(&pem)).as_bytes());
    let key = private_key_path();
    let runs: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["--private-key", &not_utf8], &pem, "not a PKCS#8 private key"),
        (vec!["--private-key", &one_line], &pem, "not a PKCS#8 private key"),
        (vec!["--private-key", &key, "--apiv3-key-file", &too_long], &long_key, "must be exactly 32 bytes"),
        (vec!["--private-key", &key, "--config", &wrong_type], &pem, "invalid type (value not shown)"),
        (vec!["--private-key", dir.path().to_str().unwrap()], &pem, "not a file"),
    ];
    for (flags, secret, cause) in runs {
        for verbosity in [&[][..], &["-vv"][..]] {
            let args = [DRY_RUN, &flags, verbosity].concat();
            let output = wxpay(&args).env("RUST_LOG", "trace").assert().code(2).get_output().clone();
            assert_hidden(&output, secret, &format!("{flags:?}"));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(cause), "{flags:?}: {stderr}");
            // The file is a path: it is named.
            assert!(stderr.contains(flags.last().unwrap()), "{flags:?}: {stderr}");
            let json = [&args[..], &["--json"]].concat();
            let output = wxpay(&json).assert().code(2).get_output().clone();
            assert_hidden(&output, secret, &format!("{flags:?} --json"));
            let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(error["error"]["file"], *flags.last().unwrap(), "{error}");
        }
    }
}

#[test]
fn content_variables_stand_in_for_the_files() {
    let key = private_key_path();
    let pem = std::fs::read_to_string(&key).unwrap();
    let from_file = wxpay(&[DRY_RUN, &["--private-key", &key]].concat()).assert().code(0).get_output().stdout.clone();
    let from_variable = wxpay(DRY_RUN).env("WXPAY_PRIVATE_KEY_PEM", &pem).assert().code(0).get_output().stdout.clone();
    assert_eq!(String::from_utf8_lossy(&from_variable), String::from_utf8_lossy(&from_file));
    assert_hidden(&wxpay(DRY_RUN).env("WXPAY_PRIVATE_KEY_PEM", &pem).output().unwrap(), &pem, "dry run");

    // The APIv3 key in its variable is checked like the file.
    wxpay(DRY_RUN).env("WXPAY_PRIVATE_KEY_PEM", &pem).env("WXPAY_APIV3_KEY", apiv3_key()).assert().code(0);
    let short = "0123456789abcdefghij";
    let output = wxpay(DRY_RUN)
        .env("WXPAY_PRIVATE_KEY_PEM", &pem)
        .env("WXPAY_APIV3_KEY", short)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert_hidden(&output, short, "a short APIv3 key");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: invalid WXPAY_APIV3_KEY\ncaused by: invalid `apiv3_key`: must be exactly 32 bytes\n"
    );

    // Contents that are not a key are named by their variable, never shown.
    let garbage = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ";
    let args = [DRY_RUN, &["--json"]].concat();
    let output = wxpay(&args).env("WXPAY_PRIVATE_KEY_PEM", garbage).assert().code(2).get_output().clone();
    assert_hidden(&output, garbage, "garbage PEM");
    let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["error"]["env"], "WXPAY_PRIVATE_KEY_PEM");
    assert_eq!(error["error"]["flag"], serde_json::Value::Null, "there is no flag for contents");

    // A path and contents for the same secret: refused, not guessed.
    let output = wxpay(&[DRY_RUN, &["--private-key", &key]].concat())
        .env("WXPAY_PRIVATE_KEY_PEM", &pem)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: invalid WXPAY_PRIVATE_KEY_PEM\ncaused by: --private-key (env WXPAY_PRIVATE_KEY) is given too; give one of them\n"
    );
    // A config file's path gives way to the variable's contents.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wxpay.toml");
    std::fs::write(&config, "private_key = \"missing.pem\"\n").unwrap();
    let with_config = [DRY_RUN, &["--config", config.to_str().unwrap()]].concat();
    let stdout = wxpay(&with_config).env("WXPAY_PRIVATE_KEY_PEM", &pem).assert().code(0).get_output().stdout.clone();
    assert_eq!(String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&from_file));
}

/// `ecommerce order-query` sent to `sandbox`, in certificate mode (the platform certificates
/// are downloaded and decrypted with the APIv3 key), with `extra` flags.
fn send_args(sandbox: &SandboxProcess, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["ecommerce", "order-query", "--sub-mchid", SUB_MCH, "--transaction-id", TRANSACTION]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    args.extend(["--out-order-no".to_owned(), OUT_ORDER_NO.to_owned()]);
    args.extend(["--base-url".to_owned(), sandbox.https_url(), "--ca-cert".to_owned(), sandbox.file("tls_ca_cert")]);
    args.extend([
        "--mchid".to_owned(),
        sandbox.get("mchid"),
        "--merchant-serial".to_owned(),
        sandbox.get("merchant_serial"),
    ]);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

#[test]
fn the_most_verbose_logs_hold_no_secret_and_no_authorization() {
    let sandbox = SandboxProcess::start();
    let key_path = sandbox.file("merchant_private_key");
    let pem = std::fs::read_to_string(&key_path).unwrap();
    let apiv3_path = sandbox.file("apiv3_key");
    let apiv3 = std::fs::read_to_string(&apiv3_path).unwrap().trim().to_owned();
    let by_files = ["--private-key", &key_path, "--apiv3-key-file", &apiv3_path];
    type Env<'a> = Vec<(&'a str, &'a str)>;
    let runs: Vec<(Vec<&str>, Env<'_>, i32)> = vec![
        // Sent and verified, the secrets given right: by files, and by the content variables.
        ([&by_files[..], &["-vv"]].concat(), vec![], 0),
        (by_files.to_vec(), vec![("RUST_LOG", "trace")], 0),
        (vec!["-vvv", "--json"], vec![("WXPAY_PRIVATE_KEY_PEM", &pem), ("WXPAY_APIV3_KEY", &apiv3)], 0),
        // Given wrongly: contents in the path variables.
        (vec!["-vv"], vec![("WXPAY_PRIVATE_KEY", &pem), ("RUST_LOG", "trace")], 2),
        (vec!["--private-key", &key_path, "-vv"], vec![("WXPAY_APIV3_KEY_FILE", &apiv3), ("RUST_LOG", "trace")], 2),
        (vec!["--private-key", &key_path, "--apiv3-key-file", &apiv3, "-vv", "--json"], vec![], 2),
    ];
    for (extra, env, code) in runs {
        let args = send_args(&sandbox, &extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = wxpay(&refs);
        for (name, value) in &env {
            cmd.env(name, value);
        }
        let output = cmd.assert().code(code).get_output().clone();
        let what = format!("{extra:?} {:?}", env.iter().map(|(n, _)| *n).collect::<Vec<_>>());
        assert_hidden(&output, &pem, &what);
        assert_hidden(&output, &apiv3, &what);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if code == 0 {
            // The logs are there, at the most verbose level, with the call's span.
            assert!(stderr.contains("wxpay{operation="), "{what}: {stderr}");
        }
        let lower = stderr.to_lowercase();
        assert!(!lower.contains("authorization"), "{what}: {stderr}");
        assert!(!stderr.contains("WECHATPAY2-SHA256-RSA2048"), "{what}: {stderr}");
    }
}

#[test]
fn verbose_shows_each_call_with_its_attempts_and_request_id() {
    let sandbox = SandboxProcess::start();
    let flags =
        ["--private-key", &sandbox.file("merchant_private_key"), "--public-key", &sandbox.file("wechatpay_public_key")];
    let id = sandbox.get("public_key_id");
    let args = send_args(&sandbox, &[&flags[..], &["--public-key-id", &id, "-v"]].concat());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = wxpay(&refs).assert().code(0).get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().find(|l| l.contains("wxpay{")).unwrap_or_else(|| panic!("no call logged: {stderr}"));
    assert!(line.contains("attempts=1"), "{line}");
    assert!(line.contains("request_id=\"SBX"), "{line}");
    assert!(line.contains("close"), "{line}");
    // Without -v, nothing is logged.
    let quiet: Vec<&str> = refs.iter().copied().filter(|a| *a != "-v").collect();
    let output = wxpay(&quiet).assert().code(0).get_output().clone();
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}
