//! Both clients built from settings, the way the CLI reads them: a `wxpay.toml` naming the
//! sandbox's key files by relative path, and `WXPAY_*` variables given as a map (the process's
//! own environment is never changed by a test).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use wxpay_sandbox::{Sandbox, SandboxConfig};
use wxpay_settings::{Settings, SettingsError};
use wxpay_tests::{BackgroundSandbox, order_query, return_query, v3_return_query};

/// A file name in the sandbox's key directory.
fn name(path: &Option<PathBuf>) -> String {
    path.as_deref().and_then(Path::file_name).and_then(|n| n.to_str()).expect("a key file").to_owned()
}

/// Writes `wxpay.toml` next to the sandbox's keys (relative paths) with `extra` lines appended.
fn write_config(sandbox: &Sandbox, extra: &str) -> PathBuf {
    let files = &sandbox.key_dir().expect("a key directory").files;
    let keys = sandbox.keys();
    let text = format!(
        "mchid = {:?}\nmerchant_serial = {:?}\nprivate_key = {:?}\npublic_key = {:?}\npublic_key_id = {:?}\n\
         base_url = {:?}\ncloudpay_url = {:?}\nca_cert = {:?}\n{extra}",
        keys.mchid,
        keys.merchant_serial,
        name(&files.merchant_private_key),
        name(&files.wechatpay_public_key),
        keys.public_key.as_ref().expect("a public key").id.as_str(),
        sandbox.https_url().expect("https"),
        sandbox.http_url().expect("http"),
        name(&files.tls_ca_cert),
    );
    let path = files.dir.join("wxpay.toml");
    std::fs::write(&path, text).expect("the key directory is writable");
    path
}

fn no_vars(_: &str) -> Option<String> {
    None
}

#[test]
fn the_blocking_client_from_a_file_calls_both_wires() {
    let bg = BackgroundSandbox::start(SandboxConfig::new().temporary_key_dir());
    let config = write_config(&bg.sandbox, "request_timeout = 10\n");
    let client = wxpay_blocking::Client::from_file(&config).expect("the settings load");
    client.execute(order_query()).expect("v3: signed with the key file, verified with the public key");
    let answer = client.execute(return_query()).expect("CloudPay");
    assert_eq!(answer.out_return_no, "R20150806125346");

    // The same file through the map of variables: WXPAY_CONFIG names it.
    let vars = HashMap::from([("WXPAY_CONFIG".to_owned(), config.display().to_string())]);
    let settings = Settings::load(Settings::default(), |k| vars.get(k).cloned()).unwrap();
    let client = wxpay_blocking::Client::builder().settings(&settings).unwrap().build().unwrap();
    client.execute(v3_return_query()).expect("v3 return query");
    bg.stop();
}

#[test]
fn the_async_client_from_a_file_calls_both_wires_and_variables_win() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig::new().temporary_key_dir()).await.unwrap();
        let config = write_config(&sandbox, "");
        let client = wxpay_transport_hyper::Client::from_file(&config).expect("the settings load");
        client.execute(order_query()).await.expect("v3");
        client.execute(return_query()).await.expect("CloudPay");

        // A variable wins over the file: a closed port for v3 makes the call fail to connect.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let vars = HashMap::from([
            ("WXPAY_CONFIG".to_owned(), config.display().to_string()),
            ("WXPAY_BASE_URL".to_owned(), format!("https://{closed}")),
        ]);
        let settings = Settings::load(Settings::default(), |k| vars.get(k).cloned()).unwrap();
        let mut quick = settings.clone();
        quick.request_timeout = Some(std::time::Duration::from_secs(2));
        let client = wxpay_transport_hyper::Client::builder().settings(&quick).unwrap();
        let client = client
            .config(quick.client_config().unwrap().retry_policy(wxpay_protocol::client::RetryPolicy::never()))
            .build()
            .unwrap();
        let err = client.execute(order_query()).await.unwrap_err();
        assert!(matches!(err, wxpay_protocol::Error::Transport(_)), "{err:?}");
        // ... and an explicit value wins over the variable.
        let mut explicit = Settings::default();
        explicit.base_url = sandbox.https_url();
        let settings = Settings::load(explicit, |k| vars.get(k).cloned()).unwrap();
        let client = wxpay_transport_hyper::Client::builder().settings(&settings).unwrap().build().unwrap();
        client.execute(order_query()).await.expect("explicit base URL");
        sandbox.shutdown().await;
    });
}

#[test]
fn settings_errors_name_the_setting_and_never_a_secret() {
    let bg = BackgroundSandbox::start(SandboxConfig::new().temporary_key_dir());
    let files = bg.sandbox.key_dir().unwrap().files.clone();
    let apiv3_key = std::fs::read_to_string(files.apiv3_key.as_ref().unwrap()).unwrap();

    // The APIv3 key file where the private key should be.
    let config = write_config(&bg.sandbox, "");
    let text = std::fs::read_to_string(&config).unwrap();
    let swapped = text.replace(&name(&files.merchant_private_key), &name(&files.apiv3_key));
    std::fs::write(&config, swapped).unwrap();
    let err = wxpay_blocking::Client::builder()
        .settings(
            &Settings::load(Settings::default(), |k| (k == "WXPAY_CONFIG").then(|| config.display().to_string()))
                .unwrap(),
        )
        .unwrap_err();
    let shown = chain(&err);
    assert!(shown.contains("private_key (env WXPAY_PRIVATE_KEY)"), "{shown}");
    assert!(shown.contains(&name(&files.apiv3_key)), "the path is named: {shown}");
    assert!(!shown.contains(apiv3_key.trim()), "{shown}");
    assert!(!format!("{err:?}").contains(apiv3_key.trim()));

    // An unknown key in the file (a secret put where none belongs) is named, its value is not.
    std::fs::write(&config, format!("apiv3_key = {:?}\n", apiv3_key.trim())).unwrap();
    let err = Settings::load(Settings::default(), |k| (k == "WXPAY_CONFIG").then(|| config.display().to_string()))
        .unwrap_err();
    assert!(matches!(err, SettingsError::Config { line: Some(1), .. }), "{err:?}");
    let shown = chain(&err);
    assert!(shown.contains("unknown field `apiv3_key`") && !shown.contains(apiv3_key.trim()), "{shown}");

    // Nothing set: a CloudPay-only client, default endpoints.
    let settings = Settings::load(Settings::default(), no_vars).unwrap();
    assert!(settings.merchant_credentials().unwrap().is_none());
    assert!(wxpay_transport_hyper::Client::builder().settings(&settings).is_ok());
    bg.stop();
}

#[test]
fn the_secrets_contents_come_from_their_variables_and_are_never_shown() {
    let bg = BackgroundSandbox::start(SandboxConfig::new().temporary_key_dir());
    let files = bg.sandbox.key_dir().unwrap().files.clone();
    let pem = std::fs::read_to_string(files.merchant_private_key.as_ref().unwrap()).unwrap();
    let apiv3_key = std::fs::read_to_string(files.apiv3_key.as_ref().unwrap()).unwrap().trim().to_owned();
    // The file names a key that is not there: the variable's contents win over its path.
    let config = write_config(&bg.sandbox, &format!("apiv3_key_file = {:?}\n", "missing_apiv3_key"));
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace(&name(&files.merchant_private_key), "missing.pem")).unwrap();
    let vars = HashMap::from([
        ("WXPAY_CONFIG".to_owned(), config.display().to_string()),
        ("WXPAY_PRIVATE_KEY_PEM".to_owned(), pem.clone()),
        ("WXPAY_APIV3_KEY".to_owned(), apiv3_key.clone()),
    ]);
    let settings = Settings::load(Settings::default(), |k| vars.get(k).cloned()).unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains(&apiv3_key) && !debug.contains(pem.lines().nth(1).unwrap()), "{debug}");
    let client = wxpay_blocking::Client::builder().settings(&settings).unwrap().build().unwrap();
    client.execute(order_query()).expect("signed with the key from WXPAY_PRIVATE_KEY_PEM");

    // The PEM where its path belongs: refused, and no part of it shown.
    let config = write_config(&bg.sandbox, "");
    let vars = HashMap::from([("WXPAY_CONFIG".to_owned(), config.display().to_string())]);
    let mut explicit = Settings::default();
    explicit.private_key = Some(pem.clone().into());
    let settings = Settings::load(explicit, |k| vars.get(k).cloned()).unwrap();
    let err = wxpay_blocking::Client::builder().settings(&settings).unwrap_err();
    let shown = chain(&err);
    assert!(shown.contains("looks like key content, not a path"), "{shown}");
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!shown.contains(line) && !format!("{err:?}").contains(line), "{shown}");
    }
    bg.stop();
}

/// An error and its causes, as a program would print them.
fn chain(err: &dyn std::error::Error) -> String {
    let mut shown = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        shown.push_str(&format!("\ncaused by: {cause}"));
        source = cause.source();
    }
    shown
}
