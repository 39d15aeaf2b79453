//! `wxpay cloudpay ... --wire v2`: the CloudPay operations on WeChat Pay's v2 API (docs/protocol.md
//! §5). [`OverV2`] says how a CloudPay subcommand builds its request and what it adds on the v2
//! wire; [`V2Wire`] wraps the subcommand into the [`CliOperation`] whose operation is the signed
//! [`v2::Call`], so that send, `--dry-run`, `--decode` and `--batch` ([`crate::run`]) run it
//! like any other operation. Every rule (the fields, the signature, which algorithm an
//! endpoint takes, the verification of answers) is the protocol's.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use wxpay_protocol::v2::{self, Call, Merchant, SignType, V2Operation};
use wxpay_transport_hyper::Client;

use super::{CliOperation, Flags, Shown, Visit, shown};
use crate::args::{CommonArgs, SettingsMut, V2Args, V3Args, Wire};
use crate::batch::RowArgs;
use crate::exit::CliError;
use crate::times::Time;

/// What `--decode --wire v2` prints on standard error when no API v2 key is given: the answer
/// was read through the protocol's named escape (`v2::danger`), its `sign` unchecked.
pub(crate) const UNVERIFIED: &str = "note: v2 answer signature not verified \
                                     (give --apiv2-key-file, or the key itself in WXPAY_APIV2_KEY)";

/// A CloudPay subcommand that also runs on the v2 wire.
pub(crate) trait OverV2: CliOperation<Op: V2Operation> {
    /// The v2 wire's flags.
    fn wire_args(&self) -> &V2Args;

    /// The CloudPay request the flags build, whatever the wire.
    fn cloudpay_request(&self) -> Result<Self::Op, CliError>;

    /// What the subcommand adds to the call on the v2 wire (the refund query's `--sub-appid`).
    fn v2_call(&self, call: Call<Self::Op>) -> Result<Call<Self::Op>, CliError> {
        Ok(call)
    }

    /// The flags that only the v2 wire reads, given on the CloudPay wire: the first one, as a
    /// flag name, or `None`.
    fn v2_only_flag(&self) -> Option<&'static str> {
        self.wire_args().sign_type.map(|_| "sign-type")
    }

    /// Sends the call: one call through the client, or what the flags ask for (the refund
    /// query's `--all-pages`).
    fn send_v2(&self, client: &Client, call: Call<Self::Op>) -> impl Future<Output = Result<Shown, CliError>> {
        async move { shown::<Self>(&client.execute(call).await?) }
    }
}

/// Hands a CloudPay subcommand to `visitor` on the wire `--wire` names.
pub(crate) fn visit<A: OverV2, V: Visit>(args: &A, visitor: V) -> V::Output {
    match args.wire_args().wire {
        Wire::Cloudpay => visitor.visit(args),
        Wire::V2 => visitor.visit(&V2Wire::new(args.clone())),
    }
}

/// Refuses, on the CloudPay wire, a flag that only the v2 wire reads (`--sign-type`,
/// `--sub-appid`): it would otherwise be ignored.
pub(crate) fn cloudpay_wire_only<A: OverV2>(args: &A) -> Result<(), CliError> {
    match args.v2_only_flag() {
        Some(flag) => Err(CliError::V2Only { flag }),
        None => Ok(()),
    }
}

/// The v2 wire's flags as settings (the key files are read from them by `wxpay-settings`).
pub(crate) fn settings(args: &V2Args) -> wxpay_settings::Settings {
    let mut settings = wxpay_settings::Settings::default();
    settings.mchid.clone_from(&args.mchid);
    settings.appid.clone_from(&args.appid);
    settings.apiv2_key_file.clone_from(&args.apiv2_key_file);
    settings.apiv2_key.clone_from(&args.apiv2_key);
    settings.client_cert.clone_from(&args.client_cert);
    settings.client_key.clone_from(&args.client_key);
    settings.client_key_pem.clone_from(&args.client_key_pem);
    settings.v2_url.clone_from(&args.v2_url);
    settings
}

/// The merchant that signs: `--mchid`, `--appid` and `--apiv2-key-file` (or their variables;
/// the key itself in `WXPAY_APIV2_KEY`), all three required, named in that order when missing.
pub(crate) fn merchant(args: &V2Args) -> Result<Merchant, CliError> {
    Ok(settings(args).v2_merchant()?)
}

/// The algorithm of `--sign-type` (HMAC-SHA256 when absent).
fn sign_type(args: &V2Args) -> SignType {
    args.sign_type.map_or(SignType::HmacSha256, |s| s.sign_type())
}

/// A CloudPay subcommand on the v2 wire. The merchant is read from the flags once, and shared
/// by the copies a batch makes for its rows.
#[derive(Debug, Clone)]
pub(crate) struct V2Wire<A> {
    /// The subcommand's flags.
    args: A,
    /// The merchant, once read.
    merchant: Arc<OnceLock<Merchant>>,
}

impl<A: OverV2> V2Wire<A> {
    /// The subcommand `args` on the v2 wire.
    pub(crate) fn new(args: A) -> Self {
        Self { args, merchant: Arc::new(OnceLock::new()) }
    }

    /// The merchant of the flags, read on first use.
    fn merchant(&self) -> Result<Merchant, CliError> {
        if let Some(merchant) = self.merchant.get() {
            return Ok(merchant.clone());
        }
        let merchant = merchant(self.args.wire_args())?;
        Ok(self.merchant.get_or_init(|| merchant).clone())
    }
}

impl<A: OverV2> RowArgs for V2Wire<A> {
    const FIELDS: &'static [&'static str] = A::FIELDS;

    fn field_mut(&mut self, field: &str) -> Option<&mut Option<String>> {
        self.args.field_mut(field)
    }
}

impl<A: OverV2> Flags for V2Wire<A> {
    fn common(&self) -> &CommonArgs {
        self.args.common()
    }

    fn v3(&self) -> Option<&V3Args> {
        None
    }

    fn v2(&self) -> Option<&V2Args> {
        Some(self.args.wire_args())
    }

    fn settings_mut(&mut self) -> SettingsMut<'_> {
        self.args.settings_mut()
    }

    /// With `--sandbox`, the calls are signed as the embedded sandbox's merchant (its `mch_id`,
    /// `appid` and test-only API v2 key), as v3 calls use its merchant key.
    fn adopt_sandbox(&self, sandbox: &wxpay_sandbox::Sandbox) -> Result<(), CliError> {
        let merchant = sandbox.v2_merchant().map_err(CliError::EmbeddedSandbox)?;
        let _ = self.merchant.set(merchant);
        Ok(())
    }
}

impl<A: OverV2> CliOperation for V2Wire<A> {
    type Op = Call<A::Op>;
    type Output = A::Output;

    /// The CloudPay request as a v2 call: the merchant's, signed with `--sign-type` (an
    /// algorithm the endpoint does not take is an error naming `sign_type`).
    fn request(&self) -> Result<Call<A::Op>, CliError> {
        let request = self.args.cloudpay_request()?;
        let call = self.merchant()?.call(request).with_sign_type(sign_type(self.args.wire_args()))?;
        self.args.v2_call(call)
    }

    fn table(answer: &A::Output) -> String {
        A::table(answer)
    }

    fn times(answer: &A::Output) -> Vec<Time<'_>> {
        A::times(answer)
    }

    fn json(answer: &A::Output) -> Result<Value, CliError> {
        A::json(answer)
    }

    /// Checks the answer's `sign` with the API v2 key and `--sign-type` (the request's
    /// algorithm) and reads it as the CloudPay answer; without a key, reads it unchecked
    /// through the protocol's named escape and says so.
    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<(A::Output, Option<String>), CliError> {
        let args = self.args.wire_args();
        let key = settings(args).apiv2_key()?;
        let (cloudpay, note) = match key {
            Some(key) => (v2::to_cloudpay(response, &key, sign_type(args))?, None),
            None => (v2::danger::to_cloudpay_unverified(response)?, Some(UNVERIFIED.to_owned())),
        };
        let (answer, _) = self.args.decode(&cloudpay)?;
        Ok((answer, note))
    }

    fn send(&self, client: &Client, op: Call<A::Op>) -> impl Future<Output = Result<Shown, CliError>> {
        self.args.send_v2(client, op)
    }
}
