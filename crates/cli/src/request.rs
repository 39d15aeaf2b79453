//! Validated requests from the command line. Every rule (lengths, characters, one-of choices,
//! lookup priority) is the protocol's: this module only says which flag feeds which newtype.

use wxpay_protocol::{
    BaseUrl, Description, NonceStr, Offset, OrderId, OrderRef, OutOrderNo, OutRefundNo, OutReturnNo, OutTradeNo,
    RefundId, RefundLookup, SubMchId, TransactionId, ValidationError, cloudpay, v3,
};

use crate::args::{
    CloudPayReturnQueryArgs, CommonArgs, EcommerceReturnQueryArgs, FinishArgs, OrderQueryArgs, RefundQueryArgs,
};
use crate::exit::CliError;
use crate::nonce;

/// The API v3 field name of the sub-merchant, which CloudPay spells `sub_mch_id`.
const SUB_MCHID: &str = "sub_mchid";

/// The value of a required flag, or the error naming it and its field.
fn required<'a>(value: &'a Option<String>, field: &'static str) -> Result<&'a str, CliError> {
    value.as_deref().ok_or(CliError::MissingFlag { field, env: None })
}

/// A required flag validated by `new`.
fn field<T>(
    value: &Option<String>,
    name: &'static str,
    new: impl FnOnce(String) -> Result<T, ValidationError>,
) -> Result<T, CliError> {
    Ok(new(required(value, name)?.to_owned())?)
}

/// An optional flag validated by `new`.
fn optional<T>(
    value: &Option<String>,
    new: impl FnOnce(String) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    value.clone().map(new).transpose()
}

/// `--nonce-str`, or a fresh random one.
fn nonce_str(value: &Option<String>) -> Result<NonceStr, CliError> {
    match value {
        Some(given) => Ok(NonceStr::new(given.as_str())?),
        None => nonce::generate(),
    }
}

/// The v3 `--sub-mchid`, reported under `sub_mchid`.
fn sub_mchid(value: &Option<String>) -> Result<SubMchId, CliError> {
    field(value, SUB_MCHID, |v| SubMchId::new(v).map_err(|e| e.in_field(SUB_MCHID)))
}

/// `--order-id` | `--out-order-no`, exactly one.
fn order_ref(order_id: &Option<String>, out_order_no: &Option<String>) -> Result<OrderRef, ValidationError> {
    OrderRef::exactly_one(optional(order_id, OrderId::new)?, optional(out_order_no, OutOrderNo::new)?)
}

/// The two base URLs, validated.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    /// `--base-url`: API v3.
    pub(crate) v3: BaseUrl,
    /// `--cloudpay-url`: CloudPay.
    pub(crate) cloudpay: BaseUrl,
}

impl Endpoints {
    /// Parses `--base-url` and `--cloudpay-url` (flag, variable or config file; WeChat Pay's
    /// endpoints when none gives them); an error names the flag's field.
    pub(crate) fn from_args(common: &CommonArgs) -> Result<Self, ValidationError> {
        Ok(Self {
            v3: BaseUrl::parse(common.base_url.as_deref().unwrap_or(BaseUrl::V3_DEFAULT))?,
            cloudpay: BaseUrl::parse(common.cloudpay_url.as_deref().unwrap_or(BaseUrl::CLOUDPAY_DEFAULT))
                .map_err(|e| e.in_field("cloudpay_url"))?,
        })
    }

    /// The API v3 base URL, if requests may be sent to it: https, or plain http to a loopback
    /// address (a sandbox or a test server). CloudPay's sidecar is plain http by design and is
    /// not checked.
    pub(crate) fn v3_for_sending(&self) -> Result<&BaseUrl, CliError> {
        if self.v3.is_https() || self.v3.is_loopback() {
            Ok(&self.v3)
        } else {
            Err(CliError::InsecureBaseUrl { url: self.v3.to_string() })
        }
    }
}

/// `wxpay cloudpay return-query`.
pub(crate) fn cloudpay_return_query(args: &CloudPayReturnQueryArgs) -> Result<cloudpay::ReturnQueryRequest, CliError> {
    Ok(cloudpay::ReturnQueryRequest::new(
        field(&args.sub_mch_id, SubMchId::FIELD, SubMchId::new)?,
        nonce_str(&args.nonce_str)?,
        order_ref(&args.order_id, &args.out_order_no)?,
        field(&args.out_return_no, OutReturnNo::FIELD, OutReturnNo::new)?,
    ))
}

/// `wxpay cloudpay finish`.
pub(crate) fn cloudpay_finish(args: &FinishArgs) -> Result<cloudpay::FinishRequest, CliError> {
    Ok(cloudpay::FinishRequest::new(
        field(&args.sub_mch_id, SubMchId::FIELD, SubMchId::new)?,
        nonce_str(&args.nonce_str)?,
        field(&args.transaction_id, TransactionId::FIELD, TransactionId::new)?,
        field(&args.out_order_no, OutOrderNo::FIELD, OutOrderNo::new)?,
        field(&args.description, Description::FIELD, Description::new)?,
    ))
}

/// `wxpay cloudpay refund-query`: the request carries only the id WeChat Pay would use.
pub(crate) fn cloudpay_refund_query(args: &RefundQueryArgs) -> Result<cloudpay::RefundQueryRequest, CliError> {
    let sub_mch_id = field(&args.sub_mch_id, SubMchId::FIELD, SubMchId::new)?;
    let nonce_str = nonce_str(&args.nonce_str)?;
    let lookup = RefundLookup::by_priority(
        optional(&args.refund_id, RefundId::new)?,
        optional(&args.out_refund_no, OutRefundNo::new)?,
        optional(&args.transaction_id, TransactionId::new)?,
        optional(&args.out_trade_no, OutTradeNo::new)?,
    )?;
    let request = cloudpay::RefundQueryRequest::new(sub_mch_id, nonce_str, lookup);
    Ok(match optional(&args.offset, |s| s.parse::<Offset>())? {
        Some(offset) => request.offset(offset),
        None => request,
    })
}

/// `wxpay ecommerce order-query`.
pub(crate) fn ecommerce_order_query(args: &OrderQueryArgs) -> Result<v3::OrderQueryRequest, CliError> {
    Ok(v3::OrderQueryRequest::new(
        sub_mchid(&args.sub_mchid)?,
        field(&args.transaction_id, TransactionId::FIELD, TransactionId::new)?,
        field(&args.out_order_no, OutOrderNo::FIELD, OutOrderNo::new)?,
    ))
}

/// `wxpay ecommerce return-query`.
pub(crate) fn ecommerce_return_query(args: &EcommerceReturnQueryArgs) -> Result<v3::ReturnQueryRequest, CliError> {
    Ok(v3::ReturnQueryRequest::new(
        sub_mchid(&args.sub_mchid)?,
        order_ref(&args.order_id, &args.out_order_no)?,
        field(&args.out_return_no, OutReturnNo::FIELD, OutReturnNo::new)?,
    ))
}
