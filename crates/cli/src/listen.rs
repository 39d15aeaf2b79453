//! `wxpay listen` and `wxpay notify decode`: profit-sharing notifications received on loopback
//! (or read from a captured request), verified and decrypted with the configured keys by
//! `wxpay_protocol::notify`, and printed. `listen` answers WeChat Pay's success body, and can
//! forward each verified notification, as JSON, to the user's own handler (its answer decides
//! whether WeChat Pay is told to send it again).
//!
//! Every rule (the signature check, the clock skew, the decryption, the answer bodies, which
//! statuses acknowledge) is the protocol's; this module reads sockets, files and the clock.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use wxpay_protocol::notify::{self, Event, Notification, NotificationError};
use wxpay_protocol::security::{Apiv3Key, KeySet};

use crate::args::{Input, V3Args};
use crate::credentials;
use crate::decode;
use crate::exit::CliError;
use crate::run::Report;

/// The largest notification body read.
const MAX_BODY: usize = 64 * 1024;

/// How long the user's handler may take to answer a forwarded notification.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// The flags of [`V3Args`] that sign requests, which receiving notifications never does: hidden
/// from the help of `listen` and `notify decode` (still read, as everywhere, from `WXPAY_*`
/// variables and config files, where they serve the other commands).
const SIGNING_FLAGS: [&str; 5] = ["mchid", "merchant_serial", "private_key", "timestamp", "nonce"];

/// Hides [`SIGNING_FLAGS`] and titles the rest of [`V3Args`] for what these commands do with it.
fn verification_flag(arg: clap::Arg) -> clap::Arg {
    let id = arg.get_id().as_str();
    if SIGNING_FLAGS.contains(&id) {
        arg.hide(true)
    } else if ["public_key", "public_key_id", "platform_cert", "apiv3_key_file", "now"].contains(&id) {
        arg.help_heading("Verification and decryption")
    } else {
        arg
    }
}

/// `wxpay listen`.
#[derive(Debug, Args)]
#[command(mut_args = verification_flag)]
pub(crate) struct ListenArgs {
    /// The port to listen on, on 127.0.0.1 (0: one the system chooses, printed at start).
    #[arg(long, value_name = "N", default_value_t = 8780)]
    pub(crate) port: u16,
    /// Forward each verified notification, as JSON, to this http:// URL (your handler); WeChat
    /// Pay is answered success only when the handler answers 2xx.
    #[arg(long, value_name = "URL")]
    pub(crate) forward: Option<String>,
    /// Stop after this many verified notifications (default: run until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Print one JSON object per notification instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// The keys: --public-key with --public-key-id, or --platform-cert, and --apiv3-key-file.
    #[command(flatten)]
    pub(crate) keys: V3Args,
}

/// `wxpay notify ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
    /// Verify, decrypt and print a captured notification: a raw HTTP/1.1 request (request
    /// line, headers, blank line, body) from FILE or `-` (standard input). --now sets the time
    /// its Wechatpay-Timestamp is checked against.
    Decode(NotifyDecodeArgs),
}

/// `wxpay notify decode`.
#[derive(Debug, Args)]
#[command(mut_args = verification_flag)]
pub(crate) struct NotifyDecodeArgs {
    /// The captured request (`-` for standard input).
    #[arg(value_name = "FILE|-")]
    pub(crate) input: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// The keys: --public-key with --public-key-id, or --platform-cert, and --apiv3-key-file.
    #[command(flatten)]
    pub(crate) keys: V3Args,
}

/// The verifying keys and the APIv3 key, both required.
fn keys(args: &V3Args) -> Result<(KeySet, Apiv3Key), CliError> {
    let keys = credentials::verifying_keys(args)?;
    if keys.is_empty() {
        return Err(CliError::NoNotificationKeys);
    }
    let apiv3 = credentials::apiv3_key(args)?
        .ok_or(CliError::MissingFlag { field: "apiv3_key_file", env: Some(crate::args::ENV_APIV3_KEY_FILE) })?;
    Ok((keys, apiv3))
}

/// `wxpay notify decode FILE`.
pub(crate) fn decode(command: &NotifyCommand) -> Result<Report, CliError> {
    let NotifyCommand::Decode(args) = command;
    let (keys, apiv3) = keys(&args.keys)?;
    let input = match args.input.as_os_str() {
        s if s == "-" => Input::Stdin,
        _ => Input::File(args.input.clone()),
    };
    let request = decode::request(&crate::input::decode_input(&input)?)?;
    let now = args.keys.now.unwrap_or_else(wxpay_system::unix_now);
    let notification = notify::parse_notification(&request, now, &keys, &apiv3).map_err(CliError::Notification)?;
    let stdout = if args.json { crate::render::json_line(&notification)? } else { table(&notification) };
    Ok(Report::new(stdout))
}

/// One notification as a few aligned lines.
pub(crate) fn table(n: &Notification) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}", n.event_type, n.summary);
    let _ = writeln!(out, "  id              {}", n.id);
    let _ = writeln!(out, "  create_time     {}", n.create_time);
    let _ = writeln!(out, "  verified with   {}", n.serial);
    match &n.event {
        Event::ProfitSharing(e) => {
            for (name, value) in [("sp_mchid", &e.sp_mchid), ("sub_mchid", &e.sub_mchid), ("mchid", &e.mchid)] {
                if let Some(value) = value {
                    let _ = writeln!(out, "  {name:<15} {value}");
                }
            }
            let _ = writeln!(out, "  transaction_id  {}", e.transaction_id);
            let _ = writeln!(out, "  order_id        {}", e.order_id);
            let _ = writeln!(out, "  out_order_no    {}", e.out_order_no);
            let r = &e.receiver;
            let _ = writeln!(out, "  receiver        {} {}", r.receiver_type, r.account);
            let _ = writeln!(out, "  amount          {} fen ({} yuan)", r.amount.get(), r.amount.yuan_string());
            let _ = writeln!(out, "  description     {}", r.description);
            if let Some(t) = &e.success_time {
                let _ = writeln!(out, "  success_time    {t}");
            }
            for key in e.extra.keys().chain(e.receiver.extra.keys()) {
                let _ = writeln!(out, "  (unknown field) {key}");
            }
        }
        Event::Other(value) => {
            let _ = writeln!(out, "  resource        {value}");
        }
        _ => {}
    }
    out
}

/// What the listener shares between connections.
struct Listener {
    keys: KeySet,
    apiv3: Apiv3Key,
    json: bool,
    forward: Option<(String, Client<HttpConnector, Full<Bytes>>)>,
    verified: AtomicU64,
    count: Option<u64>,
    done: tokio::sync::Notify,
}

/// `wxpay listen`: serves until Ctrl-C or `--count` notifications.
pub(crate) fn listen(args: &ListenArgs) -> Result<Report, CliError> {
    let (keys, apiv3) = keys(&args.keys)?;
    if let Some(url) = &args.forward {
        let uri: http::Uri = url.parse().map_err(|_| CliError::Forward(url.clone()))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(CliError::Forward(url.clone()));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async {
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        let socket = TcpListener::bind(addr).await.map_err(|e| CliError::Listen(addr.to_string(), e))?;
        let local = socket.local_addr().map_err(|e| CliError::Listen(addr.to_string(), e))?;
        let shared = Arc::new(Listener {
            keys,
            apiv3,
            json: args.json,
            forward: args.forward.clone().map(|url| (url, Client::builder(TokioExecutor::new()).build_http())),
            verified: AtomicU64::new(0),
            count: args.count,
            done: tokio::sync::Notify::new(),
        });
        let forward = args.forward.as_deref().map(|f| format!(", forwarding to {f}")).unwrap_or_default();
        // The first line on standard error: tests and scripts read the port from it.
        eprintln!("wxpay listen: receiving notifications on http://{local}/{forward}; Ctrl-C to stop");
        let serve = serve(socket, shared.clone());
        tokio::select! {
            () = serve => {}
            () = shared.done.notified() => {
                // Let the last answer reach WeChat Pay (or the sandbox) before the runtime stops.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(Report::new(String::new()))
    })
}

/// Accepts connections and serves each on its own task.
async fn serve(socket: TcpListener, shared: Arc<Listener>) {
    loop {
        let Ok((stream, _)) = socket.accept().await else { continue };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(shared.clone(), request));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// One notification: verified and decrypted, printed, forwarded, answered.
async fn handle(
    shared: Arc<Listener>,
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let answer = match Limited::new(body, MAX_BODY).collect().await {
        Err(_) => notify::answer_failure(http::StatusCode::BAD_REQUEST, "the body could not be read"),
        Ok(body) => {
            let request = http::Request::from_parts(parts, body.to_bytes().to_vec());
            match notify::parse_notification(&request, wxpay_system::unix_now(), &shared.keys, &shared.apiv3) {
                Ok(notification) => accepted(&shared, &notification).await,
                Err(e) => refused(&e),
            }
        }
    };
    let (parts, body) = answer.into_parts();
    Ok(http::Response::from_parts(parts, Full::new(Bytes::from(body))))
}

/// A notification that failed: said on standard error, answered with a failure (WeChat Pay
/// sends it again).
fn refused(e: &NotificationError) -> http::Response<Vec<u8>> {
    let mut text = format!("wxpay listen: refused a notification: {e}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let _ = write!(text, ": {c}");
        cause = c.source();
    }
    eprintln!("{text}");
    let status = match e {
        NotificationError::Verification(_) => http::StatusCode::UNAUTHORIZED,
        _ => http::StatusCode::BAD_REQUEST,
    };
    notify::answer_failure(status, &e.to_string())
}

/// A verified notification: printed, forwarded if asked, acknowledged unless the forward failed.
async fn accepted(shared: &Listener, n: &Notification) -> http::Response<Vec<u8>> {
    let printed = if shared.json { crate::render::json_line(n).unwrap_or_default() } else { table(n) };
    {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(printed.as_bytes());
        let _ = stdout.flush();
    }
    let answer = match &shared.forward {
        None => notify::answer_success(),
        Some((url, client)) => match forward(client, url, n).await {
            Ok(status) if status.is_success() => notify::answer_success(),
            Ok(status) => {
                eprintln!("wxpay listen: {url} answered {status}; WeChat Pay will send {} again", n.id);
                notify::answer_failure(http::StatusCode::INTERNAL_SERVER_ERROR, "the handler refused it")
            }
            Err(e) => {
                eprintln!("wxpay listen: cannot forward {} to {url}: {e}", n.id);
                notify::answer_failure(http::StatusCode::INTERNAL_SERVER_ERROR, "the handler is unreachable")
            }
        },
    };
    let seen = shared.verified.fetch_add(1, Ordering::SeqCst) + 1;
    if shared.count.is_some_and(|count| seen >= count) {
        shared.done.notify_one();
    }
    answer
}

/// POSTs the notification as JSON to the user's handler; its status.
async fn forward(
    client: &Client<HttpConnector, Full<Bytes>>,
    url: &str,
    n: &Notification,
) -> Result<http::StatusCode, String> {
    let body = serde_json::to_vec(n).map_err(|e| e.to_string())?;
    let request = http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let _ = response.into_body().collect().await;
        Ok(status)
    };
    tokio::time::timeout(FORWARD_TIMEOUT, exchange).await.map_err(|_| "no answer in time".to_owned())?
}
