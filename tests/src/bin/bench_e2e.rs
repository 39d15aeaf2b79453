//! `cargo xtask bench-e2e`: load on the async client against a `wxpay-sandbox` process on
//! loopback. Not a test: it reports figures for docs/performance.md.
//!
//! Usage: `bench-e2e PATH-TO-wxpay-sandbox [CALLS]`. Linux only (CPU time and peak memory come
//! from /proc/self).

use std::process::Command;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use wxpay_protocol::client::{ClientConfig, KeyMode, RateLimiter, RetryPolicy};
use wxpay_protocol::security::{
    KeySet, MerchantCredentials, PublicKeyId, RsaPrivateKey, Signer, VerifyingKey, response_message,
};
use wxpay_protocol::{BaseUrl, ErrorCode, Operation as _, v3};
use wxpay_tests::sandbox_process::SandboxProcess;
use wxpay_transport_hyper::{Client, ClientBuilder};

/// Starts the sandbox `binary` with its keys in `dir` and `extra` flags.
fn start(binary: &str, dir: &std::path::Path, extra: &[&str]) -> SandboxProcess {
    let mut command = Command::new(binary);
    command.args(["--key-dir", dir.to_str().expect("UTF-8 path")]).args(extra);
    SandboxProcess::spawn(command)
}

/// The contents of one of the sandbox's files.
fn read(sandbox: &SandboxProcess, name: &str) -> String {
    std::fs::read_to_string(sandbox.file(name)).expect("readable")
}

/// An async client for `sandbox` in public-key mode, trusting only its CA.
fn client(
    sandbox: &SandboxProcess,
    configure: impl FnOnce(ClientConfig) -> ClientConfig,
    transport: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    let key = RsaPrivateKey::from_pkcs8_pem(&read(sandbox, "merchant_private_key")).expect("key");
    let credentials =
        MerchantCredentials::new(&sandbox.get("mchid"), &sandbox.get("merchant_serial"), key).expect("ids");
    let mut keys = KeySet::new();
    let id = PublicKeyId::new(sandbox.get("public_key_id")).expect("id");
    keys.insert(VerifyingKey::from_public_key_pem(id, &read(sandbox, "wechatpay_public_key")).expect("public key"));
    let ca = CertificateDer::from_pem_slice(read(sandbox, "tls_ca_cert").as_bytes()).expect("CA");
    let config = ClientConfig::new()
        .v3_base(BaseUrl::parse(&sandbox.https_url()).expect("URL"))
        .expect("an https URL")
        .credentials(credentials)
        .keys(KeyMode::Static(keys));
    let builder = Client::builder().config(configure(config)).add_root_certificate(ca).without_webpki_roots();
    transport(builder).build().expect("client")
}

/// CPU time of this process (user + system), from /proc/self/stat in clock ticks of 10 ms.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit_once(')').expect("comm").1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

/// Peak resident memory of this process, from /proc/self/status.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn query() -> v3::OrderQueryRequest {
    v3::OrderQueryRequest::new(
        wxpay_protocol::SubMchId::new("1900000109").expect("valid"),
        wxpay_protocol::TransactionId::new("4208450740201411110007820472").expect("valid"),
        wxpay_protocol::OutOrderNo::new("P20150806125346").expect("valid"),
    )
}

struct Run {
    calls: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: Vec<wxpay_protocol::Error>,
    cpu: Duration,
}

async fn run(client: &Client, calls: usize, concurrency: usize) -> Run {
    let cpu_before = cpu_time();
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers = (0..concurrency).map(|_| {
        let client = client.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let mut out = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < calls {
                let t = Instant::now();
                let result = client.execute(query()).await;
                out.push((t.elapsed(), result.err()));
            }
            out
        })
    });
    let mut latencies = Vec::with_capacity(calls);
    let mut errors = Vec::new();
    for worker in futures_util::future::join_all(workers).await {
        for (latency, error) in worker.expect("no panic") {
            latencies.push(latency);
            errors.extend(error);
        }
    }
    latencies.sort();
    Run { calls, elapsed: started.elapsed(), latencies, errors, cpu: cpu_time().saturating_sub(cpu_before) }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// CPU cost of one RSA-2048 sign and one verify with the same library, measured here.
fn rsa_baseline(pem: &str) -> Duration {
    let key = RsaPrivateKey::from_pkcs8_pem(pem).expect("key");
    let public = VerifyingKey::from_der("S", wxpay_protocol::security::KeyKind::Merchant, &key.public_key_der())
        .expect("public");
    let message = response_message("1700000000", "0123456789abcdef0123456789abcdef", b"{\"sub_mchid\":\"1900000109\"}");
    let n = 1000;
    let before = cpu_time();
    for _ in 0..n {
        let signature = key.sign(&message).expect("sign");
        public.verify(&message, &signature).expect("verify");
    }
    cpu_time().saturating_sub(before) / n
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args.next().expect("usage: bench-e2e PATH-TO-wxpay-sandbox [CALLS]");
    let calls: usize = args.next().map_or(2000, |n| n.parse().expect("CALLS is a number"));
    let dir = std::env::temp_dir().join(format!("wxpay-bench-{}", std::process::id()));

    let sandbox = start(&binary, &dir.join("a"), &[]);
    let pem = read(&sandbox, "merchant_private_key");
    let baseline_before = rsa_baseline(&pem);
    let no_limits = |c: ClientConfig| c.rate_limits(RateLimiter::off()).retry_policy(RetryPolicy::never());

    println!("| scenario | calls | concurrency | req/s | p50 | p99 | TLS handshakes | client CPU per call | errors |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let report = |name: &str, concurrency: usize, run: &Run, handshakes: i64| {
        println!(
            "| {name} | {} | {concurrency} | {:.0} | {:.2} ms | {:.2} ms | {handshakes} | {:.0} µs | {} |",
            run.calls,
            run.calls as f64 / run.elapsed.as_secs_f64(),
            percentile(&run.latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&run.latencies, 0.99).as_secs_f64() * 1e3,
            run.cpu.as_secs_f64() * 1e6 / run.calls as f64,
            run.errors.len(),
        );
    };
    let handshakes = |s: &SandboxProcess| s.stats()["tls_handshakes"].as_i64().unwrap_or(-1);

    // Handshakes are counted from before the warm-up, which opens the pool's connections.
    let before = handshakes(&sandbox);
    let reuse = client(&sandbox, no_limits, |b| b);
    let warm = run(&reuse, 50, 4).await;
    assert!(warm.errors.is_empty(), "warm-up failed: {:?}", warm.errors.first());
    let with_reuse = run(&reuse, calls, 4).await;
    report(
        "signed + verified v3 query, pooled connections (+50 warm-up calls)",
        4,
        &with_reuse,
        handshakes(&sandbox) - before,
    );

    if std::env::var_os("BENCH_POOLED_ONLY").is_some() {
        // For profilers (callgrind): only the pooled run.
        return;
    }
    let fresh = client(&sandbox, no_limits, |b| b.pool_max_idle_per_host(0));
    let before = handshakes(&sandbox);
    let without_reuse = run(&fresh, calls / 4, 4).await;
    report("signed + verified v3 query, a new connection per call", 4, &without_reuse, handshakes(&sandbox) - before);

    // The batch: 2,000 calls under a 200 QPS client limit, against a sandbox that refuses
    // anything above 200 QPS per sub-merchant.
    let limited = start(&binary, &dir.join("b"), &["--qps", &format!("{}=200", v3::OrderQueryRequest::SPEC.name)]);
    let mut limits = RateLimiter::off();
    limits.set(v3::OrderQueryRequest::SPEC.name, 200);
    let batch_client = client(&limited, |c| c.rate_limits(limits).retry_policy(RetryPolicy::never()), |b| b);
    let batch = run(&batch_client, 2000, 32).await;
    let frequency_limited =
        batch.errors.iter().filter(|e| e.as_api().and_then(|a| a.code()) == Some(&ErrorCode::FrequencyLimited)).count();
    report("batch of 2,000 under a 200 QPS client limit", 32, &batch, handshakes(&limited));

    let per_call = with_reuse.cpu.as_secs_f64() / with_reuse.calls as f64;
    // Measured before and after the load, averaged, in the same process and the same way.
    let baseline = (baseline_before + rsa_baseline(&pem)) / 2;
    println!();
    println!(
        "RSA-2048 sign + verify (aws-lc-rs, same process, mean of before and after): {:.0} µs CPU",
        baseline.as_secs_f64() * 1e6
    );
    println!("client CPU per pooled call / (sign + verify): {:.2}", per_call / baseline.as_secs_f64());
    println!(
        "batch: {:.1} calls/s achieved = {:.1}% of the 200 QPS limit; FREQUENCY_LIMITED answers: {frequency_limited}; other errors: {}",
        2000.0 / batch.elapsed.as_secs_f64(),
        2000.0 / batch.elapsed.as_secs_f64() / 2.0,
        batch.errors.len() - frequency_limited,
    );
    println!("peak resident memory of the client process: {} KiB", peak_rss_kib());
    let _ = std::fs::remove_dir_all(&dir);
}
