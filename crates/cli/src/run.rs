//! One run of `wxpay`: the operation the command names, in the mode its flags select (send,
//! `--dry-run`, `--decode` or `--batch`), written once for every operation ([`CliOperation`]).

use wxpay_protocol::Operation;

use crate::args::{Group, Mode};
use crate::exit::{CliError, Exit};
use crate::ops::{CliOperation, Visit};
use crate::request::Endpoints;
use crate::{batch, decode, input, render, security, send};

/// What a run that produced its output prints, and how it exits.
#[derive(Debug)]
pub(crate) struct Report {
    /// For standard output.
    pub(crate) stdout: String,
    /// A note or warning for standard error, if any.
    pub(crate) warning: Option<String>,
    /// The exit code (not 0 only for a batch some of whose rows failed).
    pub(crate) exit: Exit,
}

impl Report {
    /// A successful run that prints `stdout`.
    pub(crate) fn new(stdout: String) -> Self {
        Self { stdout, warning: None, exit: Exit::Ok }
    }
}

/// Runs the chosen operation in the mode its flags select.
struct Run;

impl Visit for Run {
    type Output = Result<Report, CliError>;

    fn visit<C: CliOperation>(self, command: &C) -> Self::Output {
        let common = command.common();
        match common.mode() {
            Mode::Send => send::one(command),
            Mode::Batch(path) => batch::run(&path, command),
            Mode::DryRun => dry_run(command),
            Mode::Decode(input) => {
                let response = decode::response(input::decode_input(&input)?)?;
                let (answer, warning) = command.decode(&response)?;
                let stdout = if common.json { render::json_line(&C::json(&answer)?)? } else { C::table(&answer) };
                Ok(Report { warning, ..Report::new(stdout) })
            }
        }
    }
}

/// `--dry-run`: the exact request, signed for API v3 (in its headers) and the v2 wire (in its
/// body), printed.
fn dry_run<C: CliOperation>(command: &C) -> Result<Report, CliError> {
    let endpoints = Endpoints::from_args(command.common(), command.v2())?;
    let mut operation = command.request()?;
    // What the client would do: a fresh nonce unless `--nonce-str` gave one.
    operation.fill_nonce(wxpay_system::nonce);
    let mut request = operation.build(endpoints.base_for(C::Op::SPEC.api)?)?;
    let signed = command.v3().map(|v3| security::sign(&mut request, v3)).transpose()?;
    let stdout = if command.common().json {
        render::json_line(&render::request_json(&request, signed.as_ref()))?
    } else {
        render::request_text(&request, signed.as_ref())
    };
    Ok(Report::new(stdout))
}

/// Runs the operation `group` names.
pub(crate) fn run(group: &Group) -> Result<Report, CliError> {
    match group {
        Group::Cloudpay(command) => command.accept(Run),
        Group::Ecommerce(command) => command.accept(Run),
        Group::Demo(args) => Ok(Report::new(crate::demo::run(args.json)?)),
        Group::Listen(args) => crate::listen::listen(args),
        Group::Notify(command) => crate::listen::decode(command),
        Group::Completions(args) => {
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut crate::args::command(), "wxpay", &mut script);
            Ok(Report::new(String::from_utf8_lossy(&script).into_owned()))
        }
        Group::Man(args) => {
            if let Some(dir) = &args.dir {
                clap_mangen::generate_to(crate::args::command(), dir).map_err(CliError::Output)?;
                return Ok(Report::new(String::new()));
            }
            let mut page = Vec::new();
            clap_mangen::Man::new(crate::args::command()).render(&mut page).map_err(CliError::Output)?;
            Ok(Report::new(String::from_utf8_lossy(&page).into_owned()))
        }
        Group::Sandbox(args) => {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CliError::Runtime)?;
            runtime.block_on(args.sandbox.run_foreground()).map_err(CliError::Sandbox)?;
            Ok(Report::new(String::new()))
        }
    }
}
