//! `wxpay listen` and `wxpay notify decode`, end to end: the `wxpay sandbox` process sends a
//! profit-sharing notification, `wxpay listen` receives it on loopback, verifies and decrypts it
//! with the sandbox's key files, prints the receiver and the amount, answers success, and
//! forwards it to a handler; a captured request decodes offline, and a tampered one is refused.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::sandbox::{OUT_ORDER_NO, SandboxProcess};
use common::{CREDENTIAL_ENV, private_key_path, wxpay};
use serde_json::Value;

/// `wxpay listen --port 0 ...` started, and the URL it printed on standard error.
fn listen(args: &[&str]) -> (Child, String) {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("wxpay"));
    for name in CREDENTIAL_ENV {
        command.env_remove(name);
    }
    let mut child = command
        .args(["listen", "--port", "0", "--count", "1"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wxpay listen starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().expect("piped stderr")).read_line(&mut line).expect("a line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches([',', ';'])
        .to_owned();
    (child, url)
}

/// Waits (at most 30 s) for `child` to exit; its exit code and standard output.
fn finish(mut child: Child) -> (i32, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wxpay listen did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child.stdout.take().expect("piped stdout").read_to_string(&mut out).expect("stdout");
    (status.code().unwrap_or(-1), out)
}

/// A sandbox's keys in a directory, the sandbox stopped: (dir, key flags for `listen`).
fn keys() -> (tempfile::TempDir, Vec<String>) {
    let first = SandboxProcess::start();
    let flags = vec![
        "--public-key".to_owned(),
        first.file("wechatpay_public_key"),
        "--public-key-id".to_owned(),
        first.get("public_key_id"),
        "--apiv3-key-file".to_owned(),
        first.file("apiv3_key"),
    ];
    (first.into_dir(), flags)
}

fn notify_order(sandbox: &SandboxProcess) {
    let body = format!("{{\"out_order_no\":\"{OUT_ORDER_NO}\"}}");
    let (status, answer) = sandbox.admin("POST", "/_sandbox/notify", &body);
    assert_eq!(status, 200, "{answer}");
}

fn deliveries(sandbox: &SandboxProcess) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = sandbox.admin("GET", "/_sandbox/notifications", "");
        let list: Value = serde_json::from_str(&body).expect("JSON");
        if list[0]["state"] != "pending" || Instant::now() > deadline {
            return list;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn listen_receives_what_the_sandbox_sends_and_prints_the_receiver_and_amount() {
    let (dir, flags) = keys();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut args = vec!["--json"];
    args.extend(&flags);
    let (child, url) = listen(&args);
    let sandbox = SandboxProcess::start_with(dir, &["--notify-url", &url, "--notify-time-scale", "0.001"]);
    notify_order(&sandbox);
    let (code, out) = finish(child);
    assert_eq!(code, 0, "{out}");
    let n: Value = serde_json::from_str(out.lines().next().expect("a line")).expect("one JSON line");
    assert_eq!(n["event_type"], "PROFITSHARING.SUCCESS");
    assert_eq!(n["event"]["receiver"]["account"], "1900000110");
    assert_eq!(n["event"]["receiver"]["amount"], 100);
    assert_eq!(n["event"]["out_order_no"], OUT_ORDER_NO);
    assert_eq!(n["serial"], sandbox.get("public_key_id"));
    // The sandbox saw WeChat Pay's success answer at the first attempt.
    let list = deliveries(&sandbox);
    assert_eq!(list[0]["state"], "delivered", "{list}");
    assert_eq!(list[0]["attempts"][0]["status"], 200);
}

/// A handler on a loopback port that answers `status` to one request; the request's body.
fn handler(status: u16) -> (String, std::thread::JoinHandle<String>) {
    let socket = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", socket.local_addr().expect("addr"));
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = socket.accept().expect("a connection");
        let mut raw = Vec::new();
        let mut buf = [0; 4096];
        // Read the head, then Content-Length bytes of body.
        loop {
            let n = stream.read(&mut buf).expect("read");
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= length || n == 0 {
                    write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .expect("write");
                    return body.to_owned();
                }
            }
        }
    });
    (url, thread)
}

#[test]
fn listen_prints_a_table_and_forwards_to_the_handler() {
    let (dir, flags) = keys();
    let (hook, forwarded) = handler(204);
    let mut args = vec!["--forward", hook.as_str()];
    args.extend(flags.iter().map(String::as_str));
    let (child, url) = listen(&args);
    let sandbox = SandboxProcess::start_with(dir, &["--notify-url", &url, "--notify-time-scale", "0.001"]);
    notify_order(&sandbox);
    let (code, out) = finish(child);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("PROFITSHARING.SUCCESS"), "{out}");
    assert!(out.contains("receiver        MERCHANT_ID 1900000110"), "{out}");
    assert!(out.contains("amount          100 fen (1.00 yuan)"), "{out}");
    let body: Value = serde_json::from_str(&forwarded.join().expect("the handler")).expect("forwarded JSON");
    assert_eq!(body["event"]["receiver"]["amount"], 100);
    assert_eq!(body["event_type"], "PROFITSHARING.SUCCESS");
    assert_eq!(deliveries(&sandbox)[0]["state"], "delivered");
}

#[test]
fn listen_needs_keys() {
    let out = wxpay(&["listen", "--port", "0"]).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("no key to verify notifications with"));
}

// ---------------------------------------------------------------------------------------------
// notify decode

const SERIAL: &str = "PUB_KEY_ID_0112233445566778899AABBCCDDEEFF";
const NOW: i64 = 1_700_000_000;

/// A captured notification signed with WeChat Pay's published test key, with the files to
/// decode it: (dir, raw request path, flags).
fn captured(tamper: bool) -> (tempfile::TempDir, String, Vec<String>) {
    use wxpay_protocol::notify::{EventType, NotificationDraft, sign_notification};
    use wxpay_protocol::security::{Apiv3Key, RsaPrivateKey};
    let dir = tempfile::tempdir().expect("a directory");
    let key = RsaPrivateKey::from_pkcs8_pem(&std::fs::read_to_string(private_key_path()).unwrap()).unwrap();
    let apiv3 = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
    let resource = serde_json::json!({"sp_mchid": "1900000100", "sub_mchid": "1900000109",
        "transaction_id": "4208450740201411110007820472", "order_id": "3008450740201411110007820472",
        "out_order_no": "P20150806125346", "success_time": "2018-06-08T10:34:56+08:00",
        "receiver": {"type": "MERCHANT_ID", "account": "1900000110", "amount": 888, "description": "分账"}});
    let draft = NotificationDraft::new(
        "EV-1",
        "2018-06-08T10:34:56+08:00",
        EventType::ProfitSharingReturn,
        "分账回退",
        resource,
    );
    let body = draft.encrypt(&Apiv3Key::new(apiv3).unwrap(), "uluk4a9R25RW").unwrap();
    let request = sign_notification("http://127.0.0.1/notify", body, NOW, "nonce", SERIAL, &key).unwrap();
    let mut raw = b"POST /notify HTTP/1.1\r\nHost: merchant.example\r\n".to_vec();
    for (name, value) in request.headers() {
        raw.extend_from_slice(format!("{name}: {}\r\n", value.to_str().unwrap()).as_bytes());
    }
    raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", request.body().len()).as_bytes());
    let mut body = request.body().clone();
    if tamper {
        let at = body.len() / 2;
        body[at] ^= 1;
    }
    raw.extend_from_slice(&body);
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let raw = write("request.http", &raw);
    let flags = vec![
        "--public-key".to_owned(),
        write("pub.pem", key.public_key_pem().unwrap().as_bytes()),
        "--public-key-id".to_owned(),
        SERIAL.to_owned(),
        "--apiv3-key-file".to_owned(),
        write("apiv3", apiv3),
        "--now".to_owned(),
        NOW.to_string(),
    ];
    (dir, raw, flags)
}

#[test]
fn notify_decode_verifies_and_decrypts_a_captured_request() {
    let (_dir, raw, flags) = captured(false);
    let mut args = vec!["notify", "decode", raw.as_str(), "--json"];
    args.extend(flags.iter().map(String::as_str));
    let out = common::json_output(&args, None, 0);
    assert_eq!(out["event_type"], "PROFITSHARING.RETURN");
    assert_eq!(out["serial"], SERIAL);
    assert_eq!(out["event"]["receiver"]["amount"], 888);
    let mut args = vec!["notify", "decode", "-"];
    args.extend(flags.iter().map(String::as_str));
    let (stdout, _) = common::text_output(&args, Some(&std::fs::read(&raw).unwrap()), 0);
    assert!(stdout.contains("amount          888 fen (8.88 yuan)"), "{stdout}");
}

#[test]
fn notify_decode_refuses_a_tampered_request_with_exit_4() {
    let (_dir, raw, flags) = captured(true);
    let mut args = vec!["notify", "decode", raw.as_str()];
    args.extend(flags.iter().map(String::as_str));
    let (_, stderr) = common::text_output(&args, None, 4);
    assert!(stderr.contains("signature"), "{stderr}");
    // And at another time, the timestamp is refused.
    let (_dir, raw, mut flags) = captured(false);
    *flags.last_mut().unwrap() = (NOW + 3600).to_string();
    let mut args = vec!["notify", "decode", raw.as_str()];
    args.extend(flags.iter().map(String::as_str));
    let (_, stderr) = common::text_output(&args, None, 4);
    assert!(stderr.contains("old"), "{stderr}");
}

#[test]
fn notify_decode_takes_the_apiv3_key_from_its_content_variable() {
    let (_dir, raw, flags) = captured(false);
    let at = flags.iter().position(|f| f == "--apiv3-key-file").unwrap();
    let apiv3 = std::fs::read_to_string(&flags[at + 1]).unwrap();
    let without_file: Vec<&str> =
        flags.iter().enumerate().filter(|(i, _)| *i != at && *i != at + 1).map(|(_, f)| f.as_str()).collect();
    let args = [&["notify", "decode", raw.as_str(), "--json"][..], &without_file].concat();
    let output = wxpay(&args).env("WXPAY_APIV3_KEY", &apiv3).assert().code(0).get_output().clone();
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["event"]["receiver"]["amount"], 888);
    // With the file too: refused, not guessed, and the key is not shown.
    let args =
        [&["notify", "decode", raw.as_str()][..], &flags.iter().map(String::as_str).collect::<Vec<_>>()].concat();
    let output = wxpay(&args).env("WXPAY_APIV3_KEY", &apiv3).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: invalid WXPAY_APIV3_KEY\n"), "{stderr}");
    assert!(stderr.contains("--apiv3-key-file (env WXPAY_APIV3_KEY_FILE) is given too"), "{stderr}");
    assert!(!stderr.contains(&apiv3), "{stderr}");
}
