//! One run of `wxpay`: the operation the command names, in the mode its flags select (send,
//! `--dry-run` or `--decode`).

use std::path::Path;

use wxpay_protocol::{Api, BaseUrl, Operation, cloudpay, v3};

use crate::args::{CloudPayCommand, CommonArgs, EcommerceCommand, Group, Mode, V3Args};
use crate::exit::{CliError, Exit};
use crate::request::{self, Endpoints};
use crate::send::{self, Call};
use crate::{batch, decode, render, security, table};

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

/// One operation as the CLI runs it.
struct Command<'a, F, R, A> {
    /// The mode and output flags.
    common: &'a CommonArgs,
    /// The signing and verification flags of an API v3 operation; `None` for CloudPay, which is
    /// unsigned.
    v3: Option<&'a V3Args>,
    /// Which of the two base URLs the operation uses.
    base: fn(&Endpoints) -> &BaseUrl,
    /// Builds the validated request from the flags.
    request: F,
    /// Parses an answer.
    parse: fn(&http::Response<Vec<u8>>) -> Result<A, wxpay_protocol::Error>,
    /// The human table of an answer.
    table: fn(&A) -> String,
    /// The request as a call to send.
    call: fn(R) -> Call,
}

impl<F, R, A> Command<'_, F, R, A>
where
    F: FnOnce() -> Result<R, CliError>,
    R: Operation,
    A: serde::Serialize,
{
    /// Runs the operation in the mode its flags select.
    fn execute(self) -> Result<Report, CliError> {
        debug_assert_eq!(R::API == Api::V3, self.v3.is_some(), "v3 flags go with v3 operations only");
        let json = self.common.json;
        match self.common.mode() {
            Mode::Send => send::one(self.common, self.v3, (self.call)((self.request)()?)),
            // `run` hands batches to `batch` before a command is built.
            Mode::Batch(path) => Err(CliError::Batch {
                file: path.display().to_string(),
                reason: Some("not a batch operation".to_owned()),
                source: None,
            }),
            Mode::DryRun => {
                let endpoints = Endpoints::from_args(self.common)?;
                let mut request = (self.request)()?.build((self.base)(&endpoints))?;
                let signed = self.v3.map(|v3| security::sign(&mut request, v3)).transpose()?;
                let stdout = if json {
                    render::json_line(&render::request_json(&request, signed.as_ref()))?
                } else {
                    render::request_text(&request, signed.as_ref())
                };
                Ok(Report::new(stdout))
            }
            Mode::Decode(input) => {
                let response = decode::response(decode::read_input(&input)?)?;
                let warning = match self.v3 {
                    Some(v3) => security::verify(&response, v3)?,
                    None => None,
                };
                let answer = (self.parse)(&response)?;
                let stdout = if json { render::json_line(&answer)? } else { (self.table)(&answer) };
                Ok(Report { warning, ..Report::new(stdout) })
            }
        }
    }
}

/// Runs the operation `group` names for every row of a `--batch` file.
fn batch(group: &Group, path: &Path) -> Result<Report, CliError> {
    match group {
        Group::Cloudpay(CloudPayCommand::ReturnQuery(args)) => {
            batch::run(path, args, &args.common, None, |a| Ok(Call::ReturnQuery(request::cloudpay_return_query(a)?)))
        }
        Group::Cloudpay(CloudPayCommand::Finish(args)) => {
            batch::run(path, args, &args.common, None, |a| Ok(Call::Finish(request::cloudpay_finish(a)?)))
        }
        Group::Cloudpay(CloudPayCommand::RefundQuery(args)) => {
            let wrap = if args.all_pages { Call::AllRefunds } else { Call::RefundQuery };
            batch::run(path, args, &args.common, None, |a| Ok(wrap(request::cloudpay_refund_query(a)?)))
        }
        Group::Ecommerce(EcommerceCommand::OrderQuery(args)) => {
            batch::run(path, args, &args.common, Some(&args.v3), |a| {
                Ok(Call::OrderQuery(request::ecommerce_order_query(a)?))
            })
        }
        Group::Ecommerce(EcommerceCommand::ReturnQuery(args)) => {
            batch::run(path, args, &args.common, Some(&args.v3), |a| {
                Ok(Call::V3ReturnQuery(request::ecommerce_return_query(a)?))
            })
        }
        Group::Demo(_) | Group::Sandbox(_) => Ok(Report::new(String::new())),
    }
}

/// Runs the operation `group` names.
pub(crate) fn run(group: &Group) -> Result<Report, CliError> {
    if let Some(Mode::Batch(path)) = group.common().map(CommonArgs::mode) {
        return batch(group, &path);
    }
    match group {
        Group::Cloudpay(CloudPayCommand::ReturnQuery(args)) => Command {
            common: &args.common,
            v3: None,
            base: |e| &e.cloudpay,
            request: || request::cloudpay_return_query(args),
            parse: cloudpay::ReturnQueryResponse::parse,
            table: table::cloudpay_return_query,
            call: Call::ReturnQuery,
        }
        .execute(),
        Group::Cloudpay(CloudPayCommand::Finish(args)) => Command {
            common: &args.common,
            v3: None,
            base: |e| &e.cloudpay,
            request: || request::cloudpay_finish(args),
            parse: cloudpay::FinishResponse::parse,
            table: table::cloudpay_finish,
            call: Call::Finish,
        }
        .execute(),
        Group::Cloudpay(CloudPayCommand::RefundQuery(args)) => Command {
            common: &args.common,
            v3: None,
            base: |e| &e.cloudpay,
            request: || request::cloudpay_refund_query(args),
            parse: cloudpay::RefundQueryResponse::parse,
            table: table::cloudpay_refund_query,
            call: if args.all_pages { Call::AllRefunds } else { Call::RefundQuery },
        }
        .execute(),
        Group::Ecommerce(EcommerceCommand::OrderQuery(args)) => Command {
            common: &args.common,
            v3: Some(&args.v3),
            base: |e| &e.v3,
            request: || request::ecommerce_order_query(args),
            parse: v3::OrderQueryResponse::parse,
            table: table::v3_order_query,
            call: Call::OrderQuery,
        }
        .execute(),
        Group::Ecommerce(EcommerceCommand::ReturnQuery(args)) => Command {
            common: &args.common,
            v3: Some(&args.v3),
            base: |e| &e.v3,
            request: || request::ecommerce_return_query(args),
            parse: v3::ReturnQueryResponse::parse,
            table: table::v3_return_query,
            call: Call::V3ReturnQuery,
        }
        .execute(),
        Group::Demo(args) => Ok(Report::new(crate::demo::run(args.json)?)),
        Group::Sandbox(args) => {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CliError::Runtime)?;
            runtime.block_on(args.sandbox.run_foreground()).map_err(CliError::Sandbox)?;
            Ok(Report::new(String::new()))
        }
    }
}
