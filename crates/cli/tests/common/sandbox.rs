//! A sandbox for send-mode tests: `wxpay sandbox --key-dir DIR` as a child process, read from the
//! one JSON line it prints (URLs, ids and key files), and driven over its admin endpoints with
//! raw HTTP/1.1 (`/_sandbox/faults`, `/_sandbox/stats`), as an operator's script would.

use std::process::{Command, Stdio};

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

/// A running `wxpay sandbox` ([`super::sandbox_process::SandboxProcess`], killed by its process
/// id when dropped) with its key directory.
#[derive(Debug)]
pub(crate) struct SandboxProcess {
    process: super::sandbox_process::SandboxProcess,
    /// Its key directory (removed when dropped).
    pub(crate) dir: tempfile::TempDir,
}

impl std::ops::Deref for SandboxProcess {
    type Target = super::sandbox_process::SandboxProcess;

    fn deref(&self) -> &Self::Target {
        &self.process
    }
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
        let mut command = Command::new(assert_cmd::cargo::cargo_bin!("wxpay"));
        command
            .args(["sandbox", "--key-dir", dir.path().to_str().expect("a UTF-8 path")])
            .args(extra)
            .stderr(Stdio::null());
        Self { process: super::sandbox_process::SandboxProcess::spawn(command), dir }
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
        let stats = self.stats();
        stats[name].as_u64().unwrap_or_else(|| panic!("no count {name} in {stats}"))
    }

    /// Stops the sandbox and hands back its key directory.
    pub(crate) fn into_dir(mut self) -> tempfile::TempDir {
        self.process.stop();
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::mem::replace(&mut self.dir, dir)
    }
}

/// A loopback port nothing listens on (bound, then released).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}
