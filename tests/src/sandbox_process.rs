//! A sandbox as a child process (`wxpay-sandbox`, or `wxpay sandbox`), read from the one JSON
//! line it prints at start (URLs, ids, key files) and driven over its admin endpoints with raw
//! HTTP/1.1, as an operator's script would; killed by its process id when dropped. Shared by
//! the benchmarks of wxpay-tests and, through a link, the `wxpay` integration tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running sandbox process.
#[derive(Debug)]
pub struct SandboxProcess {
    child: Child,
    /// The JSON line it printed at start.
    pub info: Value,
}

impl SandboxProcess {
    /// Starts `command` (a sandbox binary and its flags; its standard error as the caller set
    /// it) and reads its start-up line.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("the sandbox starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("a start-up line");
        let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
        Self { child, info }
    }

    /// A string of the start-up line.
    pub fn get(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_else(|| panic!("no {key} in {}", self.info)).to_owned()
    }

    /// The path of one of its files (`merchant_private_key`, `tls_ca_cert`, ...).
    pub fn file(&self, name: &str) -> String {
        self.info["files"][name].as_str().unwrap_or_else(|| panic!("no file {name} in {}", self.info)).to_owned()
    }

    /// The plain HTTP listener (CloudPay, admin endpoints).
    pub fn http_url(&self) -> String {
        self.get("http_url")
    }

    /// The HTTPS listener (API v3, the v2 wire).
    pub fn https_url(&self) -> String {
        self.get("https_url")
    }

    /// One admin request over plain HTTP/1.1 (`/_sandbox/faults`, `/_sandbox/stats`): the
    /// status and the body.
    pub fn admin(&self, method: &str, path: &str, body: &str) -> (u16, String) {
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

    /// `GET /_sandbox/stats`.
    pub fn stats(&self) -> Value {
        let (status, body) = self.admin("GET", "/_sandbox/stats", "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("stats are JSON")
    }

    /// Kills the process (by its id) and waits for it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
