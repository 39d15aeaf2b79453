//! A sandbox for send-mode tests: `wxpay sandbox --key-dir DIR` as a child process, read from the
//! one JSON line it prints (URLs, ids and key files), and driven over its admin endpoints with
//! raw HTTP/1.1 (`/_sandbox/faults`, `/_sandbox/stats`), as an operator's script would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The sub-merchant of the seeds' examples.
pub(crate) const SUB_MCH: &str = "1900000109";
/// The payment of the finish and order-query examples (docs/protocol.md §8.3, §8.4).
pub(crate) const TRANSACTION: &str = "4208450740201411110007820472";
/// The merchant's profit-sharing order of the seeds.
pub(crate) const OUT_ORDER_NO: &str = "P20150806125346";
/// The CloudPay return of the return-query example (docs/protocol.md §8.1).
pub(crate) const CLOUDPAY_RETURN: &str = "R20150806125346";
/// The API v3 return of the v3 return-query example (docs/protocol.md §8.2).
pub(crate) const V3_RETURN: &str = "R20190516001";
/// The order of the refund-query example (docs/protocol.md §8.5), with one refund.
pub(crate) const REFUND_ORDER: &str = "1217752501201407033233368018";
/// The order with 36 refunds.
pub(crate) const ORDER_36: &str = "4200000000000000000000000036";

/// A running `wxpay sandbox`, killed when dropped.
#[derive(Debug)]
pub(crate) struct SandboxProcess {
    child: Child,
    /// The JSON line it printed.
    pub(crate) info: Value,
    /// Its key directory (removed when dropped).
    pub(crate) dir: tempfile::TempDir,
}

impl SandboxProcess {
    /// Starts `wxpay sandbox` with its keys in a new temporary directory.
    pub(crate) fn start() -> Self {
        Self::start_with(tempfile::tempdir().expect("a temporary directory"), &[])
    }

    /// Starts `wxpay sandbox` with `extra` flags (`--qps OP=N`, ...) and its keys in a new
    /// temporary directory.
    pub(crate) fn with_flags(extra: &[&str]) -> Self {
        Self::start_with(tempfile::tempdir().expect("a temporary directory"), extra)
    }

    /// Starts `wxpay sandbox` with its keys in `dir` (reused if it holds a set) and `extra` flags.
    pub(crate) fn start_with(dir: tempfile::TempDir, extra: &[&str]) -> Self {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin!("wxpay"))
            .args(["sandbox", "--key-dir", dir.path().to_str().expect("a UTF-8 path")])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wxpay sandbox starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("a line");
        let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
        Self { child, info, dir }
    }

    /// A string of the JSON line.
    pub(crate) fn get(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_else(|| panic!("no {key} in {}", self.info)).to_owned()
    }

    /// The plain HTTP listener (CloudPay, admin endpoints).
    pub(crate) fn http_url(&self) -> String {
        self.get("http_url")
    }

    /// The HTTPS listener (API v3).
    pub(crate) fn https_url(&self) -> String {
        self.get("https_url")
    }

    /// The path of one of its files (`merchant_private_key`, `apiv3_key`, ...).
    pub(crate) fn file(&self, name: &str) -> String {
        self.info["files"][name].as_str().unwrap_or_else(|| panic!("no file {name}")).to_owned()
    }

    /// `--cloudpay-url` for it.
    pub(crate) fn cloudpay_flags(&self) -> Vec<String> {
        vec!["--cloudpay-url".into(), self.http_url()]
    }

    /// The merchant's flags and the v3 endpoint with its CA, without any verifying key.
    pub(crate) fn merchant_flags(&self) -> Vec<String> {
        vec![
            "--base-url".into(),
            self.https_url(),
            "--ca-cert".into(),
            self.file("tls_ca_cert"),
            "--mchid".into(),
            self.get("mchid"),
            "--merchant-serial".into(),
            self.get("merchant_serial"),
            "--private-key".into(),
            self.file("merchant_private_key"),
        ]
    }

    /// [`Self::merchant_flags`] and WeChat Pay's public key (public-key mode).
    pub(crate) fn v3_flags(&self) -> Vec<String> {
        let mut flags = self.merchant_flags();
        flags.extend(["--public-key".into(), self.file("wechatpay_public_key")]);
        flags.extend(["--public-key-id".into(), self.get("public_key_id")]);
        flags
    }

    /// Queues a fault: `body` is `{"operation","fault":{"kind",...},"count"}`.
    pub(crate) fn inject(&self, body: &str) {
        let (status, answer) = self.admin("POST", "/_sandbox/faults", body);
        assert_eq!(status, 200, "fault refused: {answer}");
    }

    /// Requests served since start, this stats request included.
    pub(crate) fn requests(&self) -> u64 {
        self.stat("requests")
    }

    /// One count of `/_sandbox/stats` (`requests`, `limited_admitted`, `frequency_limited`).
    pub(crate) fn stat(&self, name: &str) -> u64 {
        let (status, answer) = self.admin("GET", "/_sandbox/stats", "");
        assert_eq!(status, 200, "{answer}");
        let stats: Value = serde_json::from_str(&answer).expect("stats are JSON");
        stats[name].as_u64().unwrap_or_else(|| panic!("no count {name} in {stats}"))
    }

    /// Stops the sandbox and hands back its key directory.
    pub(crate) fn into_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::mem::replace(&mut self.dir, dir)
    }

    /// One admin request over plain HTTP/1.1: the status and the body.
    pub(crate) fn admin(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let url = self.http_url();
        let authority = url.strip_prefix("http://").expect("an http URL");
        let mut stream = TcpStream::connect(authority).expect("the sandbox listens");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("the request is written");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("an answer");
        let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
        (status, body.to_owned())
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (bound, then released).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}
