//! Flags into validated values: the helpers every operation's `request` ([`crate::ops`]) uses.
//! Every rule (lengths, characters, one-of choices, lookup priority) is the protocol's: these
//! only say which flag feeds which newtype, and which field an error names.

use wxpay_protocol::{Api, BaseUrl, NonceStr, Operation, OrderId, OrderRef, OutOrderNo, SubMchId, ValidationError};

use crate::args::{CommonArgs, V2Args};
use crate::exit::CliError;

/// The API v3 field name of the sub-merchant, which CloudPay spells `sub_mch_id`.
const SUB_MCHID: &str = "sub_mchid";

/// The value of a required flag, or the error naming it and its field.
pub(crate) fn required<'a>(value: &'a Option<String>, field: &'static str) -> Result<&'a str, CliError> {
    value.as_deref().ok_or(CliError::MissingFlag { field, env: None })
}

/// A required flag validated by `new`.
pub(crate) fn field<T>(
    value: &Option<String>,
    name: &'static str,
    new: impl FnOnce(String) -> Result<T, ValidationError>,
) -> Result<T, CliError> {
    Ok(new(required(value, name)?.to_owned())?)
}

/// An optional flag validated by `new`.
pub(crate) fn optional<T>(
    value: &Option<String>,
    new: impl FnOnce(String) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    value.clone().map(new).transpose()
}

/// `operation` with `--nonce-str`, if given; without it, the client (or `--dry-run`) fills in
/// a fresh random one.
pub(crate) fn given_nonce<O: Operation>(mut operation: O, value: &Option<String>) -> Result<O, CliError> {
    if let Some(given) = value {
        let nonce = NonceStr::new(given.as_str())?;
        operation.fill_nonce(|| nonce);
    }
    Ok(operation)
}

/// The v3 `--sub-mchid`, reported under `sub_mchid`.
pub(crate) fn sub_mchid(value: &Option<String>) -> Result<SubMchId, CliError> {
    field(value, SUB_MCHID, |v| SubMchId::new(v).map_err(|e| e.in_field(SUB_MCHID)))
}

/// `--order-id` | `--out-order-no`, exactly one.
pub(crate) fn order_ref(order_id: &Option<String>, out_order_no: &Option<String>) -> Result<OrderRef, ValidationError> {
    OrderRef::exactly_one(optional(order_id, OrderId::new)?, optional(out_order_no, OutOrderNo::new)?)
}

/// The three base URLs, validated.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    /// `--base-url`: API v3.
    pub(crate) v3: BaseUrl,
    /// `--cloudpay-url`: CloudPay.
    pub(crate) cloudpay: BaseUrl,
    /// `--v2-url`: the v2 wire of the CloudPay operations.
    pub(crate) v2: BaseUrl,
}

impl Endpoints {
    /// Parses `--base-url`, `--cloudpay-url` and (for a CloudPay operation) `--v2-url` (flag,
    /// variable or config file; WeChat Pay's endpoints when none gives them); an error names
    /// the flag's field.
    pub(crate) fn from_args(common: &CommonArgs, v2: Option<&V2Args>) -> Result<Self, ValidationError> {
        let v2_url = v2.and_then(|v2| v2.v2_url.as_deref());
        Ok(Self {
            v3: BaseUrl::parse(common.base_url.as_deref().unwrap_or(BaseUrl::V3_DEFAULT))?,
            cloudpay: BaseUrl::parse(common.cloudpay_url.as_deref().unwrap_or(BaseUrl::CLOUDPAY_DEFAULT))
                .map_err(|e| e.in_field("cloudpay_url"))?,
            v2: BaseUrl::parse(v2_url.unwrap_or(BaseUrl::V2_DEFAULT)).map_err(|e| e.in_field("v2_url"))?,
        })
    }

    /// The base URL of operations on `api`.
    pub(crate) fn base_for(&self, api: Api) -> Result<&BaseUrl, CliError> {
        match api {
            Api::V3 => Ok(&self.v3),
            Api::CloudPay => Ok(&self.cloudpay),
            Api::V2 => Ok(&self.v2),
            other => Err(CliError::UnsupportedWire(other)),
        }
    }
}
