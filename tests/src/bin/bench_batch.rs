//! `cargo xtask bench-batch`: `wxpay --batch` over growing inputs against a `wxpay-sandbox`
//! process on loopback. Not a test: it reports figures for docs/performance.md.
//!
//! For each size (default 10,000, 100,000 and 1,000,000 rows) it writes a CSV of CloudPay refund
//! queries (an operation with no documented limit, so neither side throttles), runs the release
//! `wxpay` over it and reports its peak RSS (VmHWM, read from /proc while it runs) and rows per
//! second. Then a v3 batch (order queries: signed requests, verified answers) gives the client's
//! CPU time per row, beside this machine's cost of one RSA-2048 sign plus one verify.
//!
//! Usage: `bench-batch PATH-TO-wxpay PATH-TO-wxpay-sandbox [ROWS...]`. Linux only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wxpay_protocol::security::{KeyKind, RsaPrivateKey, Signer, VerifyingKey};
use wxpay_tests::sandbox_process::SandboxProcess;

/// Clock ticks per second of /proc's CPU times (the Linux default USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;

/// Starts the sandbox `binary` with its keys in `dir`, the return query unthrottled.
fn start_sandbox(binary: &str, dir: &Path) -> SandboxProcess {
    let mut command = Command::new(binary);
    command
        .args(["--key-dir", dir.to_str().expect("UTF-8 path"), "--qps", "profitsharingreturnquery=1000000"])
        .stderr(Stdio::null());
    SandboxProcess::spawn(command)
}

/// The peak RSS of a running process, in KiB (VmHWM).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time of this process's waited-for children, in seconds (cutime + cstime).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // Fields 16 and 17 of stat(5), counted from the state field (3) here.
    let tick = |i: usize| fields[i - 3].parse::<f64>().expect("a tick count");
    (tick(16) + tick(17)) / TICKS_PER_SECOND
}

/// Runs `wxpay` with `args` to the end, sampling its peak RSS; (wall time, peak KiB, CPU s).
fn run(wxpay: &str, args: &[String]) -> (Duration, u64, f64) {
    let cpu_before = children_cpu();
    let started = Instant::now();
    let mut child =
        Command::new(wxpay).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("wxpay starts");
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_rss(child.id()) {
            peak = peak.max(kib);
        }
        if child.try_wait().expect("the worker's status").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (started.elapsed(), peak, children_cpu() - cpu_before)
}

fn write_csv(path: &Path, header: &str, rows: usize, row: impl Fn(usize) -> String) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("the input file"));
    writeln!(out, "{header}").expect("write");
    for i in 0..rows {
        writeln!(out, "{}", row(i)).expect("write");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wxpay, sandbox_binary, sizes @ ..] = args.as_slice() else {
        eprintln!("usage: bench-batch PATH-TO-wxpay PATH-TO-wxpay-sandbox [ROWS...]");
        std::process::exit(2);
    };
    let sizes: Vec<usize> = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes.iter().map(|s| s.parse().expect("a number of rows")).collect()
    };
    let dir = std::env::temp_dir().join(format!("wxpay-bench-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a work directory");
    let sandbox = start_sandbox(sandbox_binary, &dir.join("keys"));
    let cloudpay = sandbox.get("http_url");

    println!("| rows | wall | rows/s | peak RSS |");
    println!("|---|---|---|---|");
    for &rows in &sizes {
        let input = dir.join(format!("refunds-{rows}.csv"));
        write_csv(&input, "transaction_id", rows, |i| format!("42000000{i:020}"));
        let output: PathBuf = dir.join(format!("out-{rows}.jsonl"));
        let _ = std::fs::remove_file(&output);
        let args: Vec<String> = [
            "cloudpay",
            "refund-query",
            "--sub-mch-id",
            "1900000109",
            "--cloudpay-url",
            &cloudpay,
            "--concurrency",
            "32",
            "--batch",
            input.to_str().expect("UTF-8"),
            "--output",
            output.to_str().expect("UTF-8"),
        ]
        .map(str::to_owned)
        .to_vec();
        let (wall, peak, _) = run(wxpay, &args);
        println!(
            "| {rows} | {:.1} s | {:.0} | {:.1} MiB |",
            wall.as_secs_f64(),
            rows as f64 / wall.as_secs_f64(),
            peak as f64 / 1024.0
        );
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&output);
    }

    // The v3 client's CPU per row: signed order queries, verified answers.
    let v3_rows = 2_000;
    let input = dir.join("orders.csv");
    write_csv(&input, "transaction_id,out_order_no", v3_rows, |i| format!("42084507402014111100{i:08},P{i}"));
    let output = dir.join("orders.jsonl");
    let args: Vec<String> = vec![
        "ecommerce".into(),
        "order-query".into(),
        "--sub-mchid".into(),
        "1900000109".into(),
        "--base-url".into(),
        sandbox.get("https_url"),
        "--ca-cert".into(),
        sandbox.file("tls_ca_cert"),
        "--mchid".into(),
        sandbox.get("mchid"),
        "--merchant-serial".into(),
        sandbox.get("merchant_serial"),
        "--private-key".into(),
        sandbox.file("merchant_private_key"),
        "--public-key".into(),
        sandbox.file("wechatpay_public_key"),
        "--public-key-id".into(),
        sandbox.get("public_key_id"),
        "--concurrency".into(),
        "32".into(),
        "--batch".into(),
        input.to_string_lossy().into_owned(),
        "--output".into(),
        output.to_string_lossy().into_owned(),
    ];
    let (wall, _, cpu) = run(wxpay, &args);
    let per_row = cpu / v3_rows as f64;

    // One RSA-2048 sign plus one verify, on this machine, the same crypto stack.
    let pem = std::fs::read_to_string(sandbox.file("merchant_private_key")).expect("the key");
    let pem = pem.lines().filter(|l| !l.starts_with('#') && !l.contains("TEST ONLY")).collect::<Vec<_>>().join("\n");
    let key = RsaPrivateKey::from_pkcs8_pem(&pem).expect("a PKCS#8 key");
    let public_pem = key.public_key_pem().expect("its public key");
    let verifier = VerifyingKey::from_spki_pem("bench", KeyKind::PublicKey, &public_pem).expect("its public key");
    let message = b"GET\n/v3/ecommerce/profitsharing/orders?sub_mchid=1900000109\n1700000000\nNONCE\n\n";
    let rounds = 500;
    let started = Instant::now();
    for _ in 0..rounds {
        let signature = key.sign(message).expect("a signature");
        verifier.verify(message, &signature).expect("it verifies");
    }
    let rsa = started.elapsed().as_secs_f64() / f64::from(rounds);
    println!();
    println!(
        "v3 order queries: {v3_rows} rows in {:.1} s ({:.0} rows/s); client CPU {:.3} ms per row = {:.2} x one RSA-2048 sign + verify ({:.3} ms)",
        wall.as_secs_f64(),
        v3_rows as f64 / wall.as_secs_f64(),
        per_row * 1000.0,
        per_row / rsa,
        rsa * 1000.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
