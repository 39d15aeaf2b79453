//! The operations as the CLI runs them: one [`CliOperation`] per subcommand, in one file per API
//! family ([`cloudpay`], [`ecommerce`]). Each says which protocol operation its flags build,
//! how an answer reads in a table, and how a captured answer is decoded; the wire, the method,
//! the path and the rules come from the operation's spec. Send, `--dry-run`, `--decode` and
//! `--batch` ([`crate::run`]) are written once, for any [`CliOperation`].

pub(crate) mod cloudpay;
pub(crate) mod ecommerce;
pub(crate) mod v2;

use std::future::Future;

use serde::Serialize;
use serde_json::Value;
use wxpay_protocol::Operation;
use wxpay_protocol::security::{Verified, danger, verify_response};
use wxpay_transport_hyper::Client;

use crate::args::{CommonArgs, SettingsMut, V2Args, V3Args};
use crate::batch::RowArgs;
use crate::exit::CliError;
use crate::times::Time;
use crate::{credentials, security};

/// An answer ready to print: as JSON (`--json`, batch lines) and as a table.
#[derive(Debug)]
pub(crate) struct Shown {
    /// The typed answer as JSON.
    pub(crate) json: Value,
    /// The human table.
    pub(crate) table: String,
}

/// The flags every subcommand has besides its API fields: the mode, output and sending flags,
/// for API v3 the signing and verification flags, and for CloudPay the v2 wire's flags.
/// Written by [`flags!`].
pub(crate) trait Flags {
    /// The mode, output and sending flags.
    fn common(&self) -> &CommonArgs;

    /// The signing and verification flags of an API v3 operation.
    fn v3(&self) -> Option<&V3Args>;

    /// The v2 wire's flags of a CloudPay operation.
    fn v2(&self) -> Option<&V2Args>;

    /// The settings a config file may fill in: the common ones, and the API v3 or v2 ones.
    fn settings_mut(&mut self) -> SettingsMut<'_>;

    /// Takes what `--sandbox` needs from the embedded sandbox that the client config does not
    /// carry (the v2 wire's merchant); nothing for most commands.
    fn adopt_sandbox(&self, sandbox: &wxpay_sandbox::Sandbox) -> Result<(), CliError> {
        let _ = sandbox;
        Ok(())
    }
}

/// Implements [`RowArgs`] (the API fields a batch row's columns set, named like the API's) and
/// [`Flags`] (`common`, and after `+` the field holding the API v3 flags, `v3`, or the v2
/// wire's, `v2`) for argument structs.
macro_rules! flags {
    (@v3 $args:ident v3) => { Some(&$args.v3) };
    (@v3 $args:ident $($other:ident)?) => { None };
    (@v2 $args:ident v2) => { Some(&$args.v2) };
    (@v2 $args:ident $($other:ident)?) => { None };
    (@v3_mut $args:ident v3) => { Some(&mut $args.v3) };
    (@v3_mut $args:ident $($other:ident)?) => { None };
    (@v2_mut $args:ident v2) => { Some(&mut $args.v2) };
    (@v2_mut $args:ident $($other:ident)?) => { None };
    ($($ty:ident { $($field:ident),+ $(,)? } $(+ $keys:ident)?)+) => {$(
        impl $crate::batch::RowArgs for $ty {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn field_mut(&mut self, field: &str) -> Option<&mut Option<String>> {
                match field {
                    $(stringify!($field) => Some(&mut self.$field),)+
                    _ => None,
                }
            }
        }

        impl $crate::ops::Flags for $ty {
            fn common(&self) -> &$crate::args::CommonArgs {
                &self.common
            }

            fn v3(&self) -> Option<&$crate::args::V3Args> {
                $crate::ops::flags!(@v3 self $($keys)?)
            }

            fn v2(&self) -> Option<&$crate::args::V2Args> {
                $crate::ops::flags!(@v2 self $($keys)?)
            }

            fn settings_mut(&mut self) -> $crate::args::SettingsMut<'_> {
                $crate::args::SettingsMut {
                    common: &mut self.common,
                    v3: $crate::ops::flags!(@v3_mut self $($keys)?),
                    v2: $crate::ops::flags!(@v2_mut self $($keys)?),
                }
            }
        }
    )+};
}
pub(crate) use flags;

/// One subcommand: its flags, and what the CLI does with the operation they build.
pub(crate) trait CliOperation: Flags + RowArgs + std::fmt::Debug {
    /// The protocol operation the flags build.
    type Op: Operation<Output = Self::Output> + Send + 'static;
    /// Its typed answer.
    type Output: Serialize + Send + 'static;

    /// The validated request (errors name the field and the rule).
    fn request(&self) -> Result<Self::Op, CliError>;

    /// The human table of an answer.
    fn table(answer: &Self::Output) -> String;

    /// The timestamps of an answer and where they are in its JSON, for their RFC 3339
    /// siblings in `--json` ([`crate::times`]).
    fn times(answer: &Self::Output) -> Vec<Time<'_>> {
        let _ = answer;
        Vec::new()
    }

    /// An answer as `--json` shows it: the typed answer, each timestamp with its RFC 3339
    /// sibling.
    fn json(answer: &Self::Output) -> Result<Value, CliError> {
        let mut json = serde_json::to_value(answer).map_err(CliError::Json)?;
        crate::times::add_rfc3339(&mut json, Self::times(answer));
        Ok(json)
    }

    /// Parses a captured answer (`--decode`) with the keys the flags give; the string is a
    /// note for standard error.
    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<(Self::Output, Option<String>), CliError>;

    /// Sends the request (send mode and batches): one call through the client. An operation
    /// whose flags ask for more (the refund query's `--all-pages`) says so here.
    fn send(&self, client: &Client, op: Self::Op) -> impl Future<Output = Result<Shown, CliError>> {
        async move { shown::<Self>(&client.execute(op).await?) }
    }
}

/// Something done with whichever subcommand was chosen, whatever its operation.
pub(crate) trait Visit {
    /// What it makes.
    type Output;

    /// Does it with `command`.
    fn visit<C: CliOperation>(self, command: &C) -> Self::Output;
}

/// Implements, for a subcommand enum whose variants each hold a [`CliOperation`], `accept`
/// (hands the chosen one to a [`Visit`], or to the function after `via`, which chooses what
/// the visitor gets: the CloudPay operations' wire), `common` and `settings_mut`.
macro_rules! dispatch {
    ($enum:ident { $($variant:ident),+ $(,)? }) => {
        $crate::ops::dispatch!($enum { $($variant),+ } via $crate::ops::visit);
    };
    ($enum:ident { $($variant:ident),+ $(,)? } via $via:path) => {
        impl $enum {
            /// Hands the chosen subcommand to `visitor`.
            pub(crate) fn accept<V: super::Visit>(&self, visitor: V) -> V::Output {
                match self {
                    $($enum::$variant(args) => $via(args, visitor),)+
                }
            }

            /// The chosen subcommand's mode, output and sending flags.
            pub(crate) fn common(&self) -> &crate::args::CommonArgs {
                match self {
                    $($enum::$variant(args) => args.common(),)+
                }
            }

            /// The chosen subcommand's settings, to fill in from a config file.
            pub(crate) fn settings_mut(&mut self) -> crate::args::SettingsMut<'_> {
                match self {
                    $($enum::$variant(args) => args.settings_mut(),)+
                }
            }
        }
    };
}
pub(crate) use dispatch;

/// Hands `command` to `visitor` as it is.
pub(crate) fn visit<C: CliOperation, V: Visit>(command: &C, visitor: V) -> V::Output {
    visitor.visit(command)
}

/// Every refund of a lookup, page by page through the client's pager, on either wire (a
/// CloudPay request or a v2 call).
pub(crate) async fn all_refunds<Q: wxpay_protocol::client::RefundQuery>(
    client: &Client,
    query: Q,
) -> Result<Vec<wxpay_protocol::cloudpay::Refund>, CliError> {
    use futures_util::StreamExt;
    use wxpay_protocol::client::RefundsError;
    let mut stream = std::pin::pin!(client.refunds(query));
    let mut refunds = Vec::new();
    while let Some(refund) = stream.next().await {
        match refund {
            Ok(refund) => refunds.push(refund),
            Err(RefundsError::Call(e)) => return Err(e.into()),
            Err(e) => return Err(CliError::Paging(e)),
        }
    }
    Ok(refunds)
}

/// An answer of `C`, shown.
pub(crate) fn shown<C: CliOperation>(answer: &C::Output) -> Result<Shown, CliError> {
    Ok(Shown { json: C::json(answer)?, table: C::table(answer) })
}

/// Decodes a captured API v3 answer with `parse`: verified with the keys given (`--public-key`
/// and `--public-key-id`, `--platform-cert`) at `--now`, or, without keys, through the
/// protocol's named escape for offline inspection, with a note saying the signature was not
/// checked.
pub(crate) fn decode_v3<T>(
    response: &http::Response<Vec<u8>>,
    v3: Option<&V3Args>,
    parse: impl FnOnce(&Verified<'_>) -> Result<T, wxpay_protocol::Error>,
) -> Result<(T, Option<String>), CliError> {
    let Some(args) = v3 else { return Ok((parse(&danger::inspect_unverified(response))?, None)) };
    let keys = credentials::verifying_keys(args)?;
    credentials::apiv3_key(args)?;
    if keys.is_empty() {
        let answer = parse(&danger::inspect_unverified(response))?;
        return Ok((answer, Some(security::UNVERIFIED.to_owned())));
    }
    let now = args.now.unwrap_or_else(wxpay_system::unix_now);
    let verified = verify_response(response, now, &keys)
        .map_err(|cause| wxpay_protocol::Error::from(wxpay_protocol::UnverifiedResponse::new(cause, response)))?;
    let note = security::verified_note(verified.verification());
    Ok((parse(&verified)?, note))
}
