//! The key directory: a sandbox started twice with the same `--key-dir` serves the same keys
//! (ids, key files and the TLS CA), private files are 0600 and a new directory 0700, files it
//! cannot use are refused by name without their contents, and a temporary directory is gone
//! after shutdown. The built binary where the process matters (its lines, its exit, signals),
//! the library for the rest.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::{Raw, Req, TestClock, exchange_at};
use serde_json::Value;
use wxpay_protocol::security::{KeySet, MerchantCredentials, PublicKeyId, RsaPrivateKey, Verification, VerifyingKey};
use wxpay_sandbox::{KeyDirOrigin, Sandbox, SandboxConfig, SandboxError};

/// A running binary, killed when dropped (also when a test fails).
struct Running {
    child: Child,
    /// The JSON line on stdout.
    line: Value,
    /// The lines on stderr, as they come.
    stderr: Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts the binary with `args` and reads the JSON line it prints.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wxpay-sandbox"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = |stream: Box<dyn Read + Send>| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let stdout = lines(Box::new(child.stdout.take().unwrap()));
        let stderr = lines(Box::new(child.stderr.take().unwrap()));
        let mut running = Self { child, line: Value::Null, stderr };
        let line = stdout.recv_timeout(Duration::from_secs(30)).expect("the sandbox prints a line at start");
        running.line = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON line ({e}): {line:?}"));
        running
    }

    /// The next line on stderr.
    fn stderr_line(&self) -> String {
        self.stderr.recv_timeout(Duration::from_secs(30)).expect("a line on stderr")
    }

    /// Sends `signal` (`TERM`, `INT`) and waits for the process to end.
    #[cfg(unix)]
    fn stop(&mut self, signal: &str) -> ExitStatus {
        let sent = Command::new("kill").args(["-s", signal, &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill -s {signal}");
        wait(&mut self.child)
    }

    fn file(&self, name: &str) -> PathBuf {
        PathBuf::from(self.line["files"][name].as_str().unwrap_or_else(|| panic!("no {name} in {}", self.line)))
    }

    fn str(&self, key: &str) -> &str {
        self.line[key].as_str().unwrap_or_else(|| panic!("no {key} in {}", self.line))
    }

    fn addr(&self, key: &str) -> SocketAddr {
        self.str(key).split_once("://").unwrap().1.parse().unwrap()
    }
}

/// Waits up to 30 s for `child` to end.
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the sandbox did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs the binary expecting it to refuse to start: exit code 2; returns its stderr.
fn refused(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxpay-sandbox"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait(&mut child);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
    stderr
}

/// Every file of `dir` by name, with its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name().into_string().unwrap(), std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn now() -> i64 {
    // The binary runs on the system clock; a signature is good for 300 s either side.
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A signed order query to `running`'s HTTPS listener, trusting `ca_pem`, signed with the
/// merchant key `merchant_pem` and verified with `verify_with`, the way a client configured
/// once from a key directory does. `serial` names the key the answer is signed with.
async fn order_query(
    running: &Running,
    ca_pem: &str,
    merchant_pem: &str,
    serial: Option<&str>,
    verify_with: &KeySet,
) -> Raw {
    let key = RsaPrivateKey::from_pkcs8_pem(merchant_pem).unwrap();
    let credentials = MerchantCredentials::new(running.str("mchid"), running.str("merchant_serial"), key).unwrap();
    let mut req = Req::get(common::ORDER_QUERY);
    for (name, value) in common::signed_headers(&credentials, "GET", common::ORDER_QUERY, now(), serial) {
        req = req.header(&name, &value);
    }
    let addr = running.addr("https_url");
    let raw = Raw::parse(exchange_at(addr, Some(ca_pem), &req.to_bytes(addr)).await);
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let http = raw.http();
    let verified =
        wxpay_protocol::security::verify_response(&http, now(), verify_with).map(|v| v.verification().clone());
    assert!(matches!(verified, Ok(Verification::Signed { .. })), "{verified:?}");
    raw
}

#[tokio::test]
async fn the_binary_started_twice_with_one_key_dir_serves_the_same_keys() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("keys"); // made by the sandbox
    let dir_arg = dir.to_str().unwrap();

    let mut first = Running::start(&["--key-dir", dir_arg]);
    assert_eq!(first.line["key_dir_origin"], "generated");
    assert_eq!(first.line["key_dir"], dir_arg);
    let human = first.stderr_line();
    assert_eq!(
        human,
        format!(
            "wxpay-sandbox listening on {} and {}; keys in {dir_arg} (generated); Ctrl-C to stop",
            first.str("http_url"),
            first.str("https_url")
        )
    );
    let files = contents(&dir);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "README.txt",
            "apiv2_key",
            "apiv3_key",
            "manifest.json",
            "merchant_cert.pem",
            "merchant_private_key.pem",
            "merchant_public_key.pem",
            "platform_cert.pem",
            "platform_private_key.pem",
            "tls_ca_cert.pem",
            "tls_cert.pem",
            "tls_private_key.pem",
            "wechatpay_private_key.pem",
            "wechatpay_public_key.pem",
        ]
    );
    // Every file of the directory is in the line, and every path of the line is a file there.
    let listed = first.line["files"].as_object().unwrap();
    assert_eq!(listed.len(), files.len(), "{}", first.line); // "dir" instead of README.txt
    for (name, path) in listed {
        let path = PathBuf::from(path.as_str().unwrap_or_else(|| panic!("{name} is null")));
        assert!(path == dir || (path.parent() == Some(dir.as_path()) && path.is_file()), "{name}");
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    for key in ["mchid", "merchant_serial", "public_key_id"] {
        assert_eq!(manifest[key], first.line[key], "{key}");
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir), 0o700, "the directory it made");
        for name in [
            "merchant_private_key.pem",
            "wechatpay_private_key.pem",
            "platform_private_key.pem",
            "tls_private_key.pem",
            "apiv3_key",
            "apiv2_key",
        ] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
        for name in [
            "merchant_public_key.pem",
            "wechatpay_public_key.pem",
            "platform_cert.pem",
            "tls_ca_cert.pem",
            "merchant_cert.pem",
        ] {
            assert_eq!(mode(&dir.join(name)) & 0o022, 0, "{name} is writable by others");
        }
    }
    // What a team's client keeps from the first start.
    let ca_pem = String::from_utf8(files["tls_ca_cert.pem"].clone()).unwrap();
    let merchant_pem = String::from_utf8(files["merchant_private_key.pem"].clone()).unwrap();
    let mut verify_with = KeySet::new();
    let public_key_id = first.str("public_key_id").to_owned();
    verify_with.insert(
        VerifyingKey::from_public_key_pem(
            PublicKeyId::new(public_key_id.clone()).unwrap(),
            std::str::from_utf8(&files["wechatpay_public_key.pem"]).unwrap(),
        )
        .unwrap(),
    );
    verify_with
        .insert(VerifyingKey::from_certificate_pem(std::str::from_utf8(&files["platform_cert.pem"]).unwrap()).unwrap());
    order_query(&first, &ca_pem, &merchant_pem, Some(&public_key_id), &verify_with).await;
    let first_line = first.line.clone();
    #[cfg(unix)]
    assert!(first.stop("TERM").success());
    drop(first);

    let second = Running::start(&["--key-dir", dir_arg]);
    assert_eq!(second.line["key_dir_origin"], "reused");
    assert!(second.stderr_line().ends_with(&format!("; keys in {dir_arg} (reused); Ctrl-C to stop")));
    // The v2 names of the line (docs/sandbox.md, "The v2 wire"): the merchant certificate is
    // for the merchant's own key, as WeChat Pay's API certificate is.
    assert_eq!(first_line["appid"], "wx8888888888888888");
    assert_eq!(first_line["apiv2_key"], dir.join("apiv2_key").to_str().unwrap());
    assert_eq!(first_line["merchant_cert"], dir.join("merchant_cert.pem").to_str().unwrap());
    assert_eq!(first_line["merchant_key"], first_line["files"]["merchant_private_key"]);
    assert_eq!(first_line["client_ca"], Value::Null);
    for key in [
        "mchid",
        "merchant_serial",
        "public_key_id",
        "platform_serial",
        "key_dir",
        "files",
        "appid",
        "apiv2_key",
        "merchant_cert",
        "merchant_key",
    ] {
        assert_eq!(second.line[key], first_line[key], "{key}");
    }
    assert_eq!(contents(&dir), files, "the files are read, never written again");

    // The second run answers what the first run's files verify, over TLS trusting the first
    // run's CA: with the public key, and with the platform certificate.
    let raw = order_query(&second, &ca_pem, &merchant_pem, Some(&public_key_id), &verify_with).await;
    assert_eq!(raw.header("wechatpay-serial"), Some(public_key_id.as_str()));
    let raw = order_query(&second, &ca_pem, &merchant_pem, None, &verify_with).await;
    assert_eq!(raw.header("wechatpay-serial"), second.line["platform_serial"].as_str());
}

#[cfg(unix)]
#[test]
fn without_a_key_dir_the_binary_removes_its_temporary_dir_at_exit() {
    for signal in ["TERM", "INT"] {
        let mut running = Running::start(&[]);
        let dir = PathBuf::from(running.str("key_dir"));
        assert!(dir.is_dir() && running.file("merchant_private_key").is_file(), "{}", dir.display());
        assert!(dir.file_name().unwrap().to_str().unwrap().starts_with("wxpay-sandbox-"), "{}", dir.display());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(running.line["key_dir_origin"], "generated");
        let human = running.stderr_line();
        assert!(human.contains(&format!("; keys in {} (generated, temporary: removed at exit);", dir.display())));
        assert!(running.stop(signal).success(), "SIG{signal}");
        assert!(!dir.exists(), "SIG{signal}: {} is still there", dir.display());
    }
}

#[test]
fn a_corrupt_or_missing_key_file_is_refused_by_name_without_its_contents() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("keys");
    let dir_arg = dir.to_str().unwrap();
    drop(Running::start(&["--key-dir", dir_arg]));
    let files = contents(&dir);

    for (name, problem) in [
        ("merchant_private_key.pem", "not a PKCS#8 RSA private key"),
        ("wechatpay_private_key.pem", "not a PKCS#8 RSA private key"),
        ("platform_private_key.pem", "not a PKCS#8 RSA private key"),
        ("tls_private_key.pem", "not a PEM private key"),
        ("apiv3_key", "not an APIv3 key"),
        ("platform_cert.pem", "not a PEM X.509 certificate"),
        ("wechatpay_public_key.pem", "not a PEM public key"),
        ("manifest.json", "not a manifest of wxpay-sandbox"),
    ] {
        // Cut in half: still the file's own bytes, which must not be printed (for the APIv3
        // key, its first 16 characters).
        let original = &files[name];
        let half = &original[..original.len() / 2];
        std::fs::write(dir.join(name), half).unwrap();
        let stderr = refused(&["--key-dir", dir_arg]);
        std::fs::write(dir.join(name), original).unwrap();
        let path = dir.join(name);
        assert!(stderr.starts_with(&format!("error: {}: {problem}", path.display())), "{name}: {stderr}");
        assert!(stderr.contains("delete the key directory"), "{name}: {stderr}");
        let text = String::from_utf8_lossy(half);
        for piece in
            text.lines().map(str::trim).filter(|l| l.len() >= 8 && !l.starts_with('#') && !l.starts_with("-----"))
        {
            // The manifest's own words ("format": 1, ...) may be named by the JSON reader; key
            // material never is.
            if name != "manifest.json" {
                assert!(!stderr.contains(piece), "{name}: stderr quotes the file: {stderr}");
            }
        }
    }
    // A missing file: the set is incomplete, and the message names what is missing.
    std::fs::remove_file(dir.join("platform_private_key.pem")).unwrap();
    let stderr = refused(&["--key-dir", dir_arg]);
    assert!(
        stderr.starts_with(&format!(
            "error: {dir_arg} holds an incomplete key set (missing platform_private_key.pem); delete or empty it"
        )),
        "{stderr}"
    );
    std::fs::write(dir.join("platform_private_key.pem"), &files["platform_private_key.pem"]).unwrap();

    // And the directory is usable again once its files are back.
    let again = Running::start(&["--key-dir", dir_arg]);
    assert_eq!(again.line["key_dir_origin"], "reused");
}

/// A sandbox with generated keys in `dir` and a clock pinned at `now`.
async fn start_in(dir: &Path, now: i64) -> Result<Sandbox, SandboxError> {
    Sandbox::start(SandboxConfig::new().key_dir(dir).clock(TestClock::new(now).clock())).await
}

#[tokio::test]
async fn the_library_reuses_a_key_dir_and_refuses_files_that_do_not_belong_together() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("keys");
    let first = start_in(&dir, common::T0).await.unwrap();
    assert_eq!(first.key_dir().unwrap().origin, KeyDirOrigin::Generated);
    assert!(!first.key_dir().unwrap().temporary);
    let (info, ca) = (first.info().clone(), first.tls_ca_pem().to_owned());
    first.shutdown().await;
    assert!(dir.is_dir(), "a key directory of one's own stays");

    let second = start_in(&dir, common::T0 + 86_400).await.unwrap();
    assert_eq!(second.key_dir().unwrap().origin, KeyDirOrigin::Reused);
    for key in ["mchid", "merchant_serial", "public_key_id", "platform_serial"] {
        assert_eq!(second.info()[key], info[key], "{key}");
    }
    assert_eq!(second.tls_ca_pem(), ca);
    assert!(second.keys().merchant_credentials().is_some(), "the merchant's key is read back");
    drop(second);
    let files = contents(&dir);

    // Another merchant id.
    let error = Sandbox::start(SandboxConfig::new().key_dir(&dir).mchid("1230000109")).await.unwrap_err();
    assert!(matches!(&error, SandboxError::KeyDirMchid { found, .. } if found == "1900007291"), "{error}");

    // A public key that is not the private key's half.
    std::fs::write(dir.join("wechatpay_public_key.pem"), &files["merchant_public_key.pem"]).unwrap();
    let error = start_in(&dir, common::T0).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: not the public half of wechatpay_private_key.pem; delete the key directory to generate a new set",
            dir.join("wechatpay_public_key.pem").display()
        )
    );
    std::fs::write(dir.join("wechatpay_public_key.pem"), &files["wechatpay_public_key.pem"]).unwrap();

    // A platform key of another certificate.
    std::fs::write(dir.join("platform_private_key.pem"), &files["merchant_private_key.pem"]).unwrap();
    let error = start_in(&dir, common::T0).await.unwrap_err();
    assert!(error.to_string().contains("platform_private_key.pem: not the key of platform_cert.pem"), "{error}");
    std::fs::write(dir.join("platform_private_key.pem"), &files["platform_private_key.pem"]).unwrap();

    // A TLS certificate from another directory: not issued by this CA.
    let other = parent.path().join("other");
    drop(start_in(&other, common::T0).await.unwrap());
    std::fs::copy(other.join("tls_cert.pem"), dir.join("tls_cert.pem")).unwrap();
    let error = start_in(&dir, common::T0).await.unwrap_err();
    assert!(
        error.to_string().contains("tls_cert.pem: not a certificate for localhost issued by tls_ca_cert.pem"),
        "{error}"
    );
    std::fs::write(dir.join("tls_cert.pem"), &files["tls_cert.pem"]).unwrap();

    // The platform certificate is valid for five years from the first start: four years
    // later it is reused, a day before its end it is refused.
    drop(start_in(&dir, common::T0 + 4 * 365 * 86_400).await.unwrap());
    let error = start_in(&dir, common::T0 + 5 * 365 * 86_400).await.unwrap_err();
    assert!(matches!(&error, SandboxError::KeyDirExpired { path, .. } if path.ends_with("platform_cert.pem")));
    assert!(error.to_string().contains("(expired, or expiring within a day); delete the key directory"), "{error}");

    assert_eq!(contents(&dir), files, "refused starts write nothing");
}

#[tokio::test]
async fn given_keys_keep_their_tls_identity_in_a_key_dir_of_their_own() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("given");
    let (config, _clock) = common::config();
    let first = Sandbox::start(config.clone().key_dir(&dir)).await.unwrap();
    let key_dir = first.key_dir().unwrap();
    assert_eq!(key_dir.origin, KeyDirOrigin::Generated);
    assert_eq!(key_dir.files.manifest, None, "not a generated set");
    assert!(key_dir.files.wechatpay_public_key.as_ref().unwrap().is_file());
    let ca = first.tls_ca_pem().to_owned();
    drop(first);
    let second = Sandbox::start(config.clone().key_dir(&dir)).await.unwrap();
    assert_eq!(second.key_dir().unwrap().origin, KeyDirOrigin::Reused);
    assert_eq!(second.tls_ca_pem(), ca);
    drop(second);

    // Without the key files, that directory is not a key set.
    let error = start_in(&dir, common::T0).await.unwrap_err();
    assert!(matches!(&error, SandboxError::KeyDirIncomplete { missing, .. } if missing.contains(&"manifest.json")));

    // And given keys never overwrite a generated set's public keys.
    let generated = parent.path().join("generated");
    drop(start_in(&generated, common::T0).await.unwrap());
    let error = Sandbox::start(config.key_dir(&generated)).await.unwrap_err();
    assert!(matches!(error, SandboxError::KeyDirInUse { .. }), "{error}");
}

#[tokio::test]
async fn a_temporary_key_dir_is_removed_at_shutdown_and_when_dropped() {
    let temporary = || SandboxConfig::new().temporary_key_dir();
    let sandbox = Sandbox::start(temporary()).await.unwrap();
    let key_dir = sandbox.key_dir().unwrap();
    assert!(key_dir.temporary);
    let dir = key_dir.files.dir.clone();
    assert!(key_dir.files.tls_ca_cert.as_ref().unwrap().is_file());
    sandbox.shutdown().await;
    assert!(!dir.exists(), "{} is still there after shutdown", dir.display());

    let sandbox = Sandbox::start(temporary()).await.unwrap();
    let dir = sandbox.key_dir().unwrap().files.dir.clone();
    assert!(dir.is_dir());
    drop(sandbox);
    assert!(!dir.exists(), "{} is still there after drop", dir.display());

    // Without a key directory, nothing is written.
    let sandbox = Sandbox::start(SandboxConfig::new()).await.unwrap();
    assert!(sandbox.key_dir().is_none());
}
