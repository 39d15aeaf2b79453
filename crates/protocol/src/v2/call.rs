//! A CloudPay request sent over the v2 wire: [`Merchant`] adds `mch_id`, `appid` and the
//! signature, [`Call`] is the [`Operation`].

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::sign::{self, ApiV2Key, SIGN, SIGN_TYPE, SignType};
use super::xml::Fields;
use crate::cloudpay::{FinishRequest, RefundQueryRequest, ReturnQueryRequest};
use crate::endpoint::BaseUrl;
use crate::error::{Error, Rule, ValidationError};
use crate::operation::{Operation, OperationSpec};
use crate::security::Mchid;
use crate::validate::{AppId, NonceStr, SubAppId};

mod sealed {
    pub trait Sealed {}
}

/// A CloudPay request that has a v2 form (the three of [`cloudpay`](crate::cloudpay)). Sealed.
pub trait V2Operation: Operation + sealed::Sealed {
    /// The v2 endpoint's description.
    const V2_SPEC: OperationSpec;

    /// The algorithms the endpoint accepts (docs/protocol.md §5).
    const SIGN_TYPES: &'static [SignType];

    /// The request's own fields, as the CloudPay body names them.
    fn v2_fields(&self) -> Map<String, Value>;

    /// Reads the fields of a request body as a server does (the CloudPay JSON form).
    fn from_v2_fields(body: &[u8]) -> Result<Self, ValidationError>
    where
        Self: Sized;

    /// Parses the answer in its CloudPay JSON form (what [`to_cloudpay`](super::to_cloudpay)
    /// makes of a verified v2 answer).
    fn parse_cloudpay(&self, response: &http::Response<Vec<u8>>) -> Result<Self::Output, Error>;
}

macro_rules! v2_operation {
    ($request:ty, $spec:expr, $sign_types:expr) => {
        impl sealed::Sealed for $request {}

        impl V2Operation for $request {
            const V2_SPEC: OperationSpec = $spec;
            const SIGN_TYPES: &'static [SignType] = $sign_types;

            fn v2_fields(&self) -> Map<String, Value> {
                self.body()
            }

            fn from_v2_fields(body: &[u8]) -> Result<Self, ValidationError> {
                Self::from_body(body)
            }

            fn parse_cloudpay(&self, response: &http::Response<Vec<u8>>) -> Result<Self::Output, Error> {
                Operation::parse(self, response)
            }
        }
    };
}

v2_operation!(ReturnQueryRequest, super::RETURN_QUERY, super::HMAC_ONLY);
v2_operation!(FinishRequest, super::FINISH, super::HMAC_ONLY);
v2_operation!(RefundQueryRequest, super::REFUND_QUERY, super::MD5_OR_HMAC);

/// Who calls the v2 API: the service provider's `mch_id` and `appid`, and the API v2 key that
/// signs. Cheap to clone (shared); `Debug` never shows the key.
#[derive(Clone)]
pub struct Merchant {
    inner: Arc<Inner>,
}

struct Inner {
    mch_id: Mchid,
    appid: AppId,
    key: ApiV2Key,
}

impl Merchant {
    /// The merchant `mch_id` of app `appid`, signing with `key`.
    pub fn new(mch_id: Mchid, appid: AppId, key: ApiV2Key) -> Self {
        Self { inner: Arc::new(Inner { mch_id, appid, key }) }
    }

    /// The merchant id sent as `mch_id`.
    pub fn mch_id(&self) -> &Mchid {
        &self.inner.mch_id
    }

    /// The app id sent as `appid`.
    pub fn appid(&self) -> &AppId {
        &self.inner.appid
    }

    /// The API v2 key.
    pub fn key(&self) -> &ApiV2Key {
        &self.inner.key
    }

    /// `request` as a v2 call, signed with HMAC-SHA256 (accepted by all three endpoints).
    pub fn call<R: V2Operation>(&self, request: R) -> Call<R> {
        Call { request, merchant: self.clone(), sign_type: SignType::HmacSha256, sub_appid: None }
    }
}

impl fmt::Debug for Merchant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merchant")
            .field("mch_id", &self.inner.mch_id.as_str())
            .field("appid", &self.inner.appid.as_str())
            .field("key", &self.inner.key)
            .finish()
    }
}

/// A CloudPay request on the v2 wire: built into a signed `<xml>` body, its answer verified
/// with the same key and algorithm before it is parsed into the CloudPay answer type.
#[derive(Debug, Clone)]
pub struct Call<R> {
    request: R,
    merchant: Merchant,
    sign_type: SignType,
    sub_appid: Option<SubAppId>,
}

impl<R: V2Operation> Call<R> {
    /// Signs with `sign_type`; an algorithm the endpoint does not accept is an error naming
    /// `sign_type` (the profit-sharing calls take HMAC-SHA256 only, docs/protocol.md §5).
    ///
    /// ```
    /// # #[cfg(feature = "aws-lc-rs")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use wxpay_protocol::v2::{ApiV2Key, AppId, Merchant, SignType};
    /// # use wxpay_protocol::{cloudpay, security::Mchid, *};
    /// # let merchant = Merchant::new(Mchid::new("1900000100")?, AppId::new("wx8888888888888888")?,
    /// #     ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d")?);
    /// let finish = cloudpay::FinishRequest::new(SubMchId::new("1900000109")?,
    ///     TransactionId::new("4208450740201411110007820472")?, OutOrderNo::new("P1")?, Description::new("done")?);
    /// let err = merchant.call(finish).with_sign_type(SignType::Md5).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid `sign_type`: must be one of HMAC-SHA256 for this operation");
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "aws-lc-rs"))]
    /// # fn main() {}
    /// ```
    pub fn with_sign_type(mut self, sign_type: SignType) -> Result<Self, ValidationError> {
        if !R::SIGN_TYPES.contains(&sign_type) {
            return Err(ValidationError::new(SIGN_TYPE, Rule::OneOf(sign_type_names::<R>())));
        }
        self.sign_type = sign_type;
        Ok(self)
    }

    /// The algorithm the request is signed with and the answer verified with.
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }

    /// The CloudPay request.
    pub fn request(&self) -> &R {
        &self.request
    }

    /// The merchant.
    pub fn merchant(&self) -> &Merchant {
        &self.merchant
    }

    /// The same call settings around another request (the next page of a refund query).
    pub fn with_request(&self, request: R) -> Self {
        Self { request, merchant: self.merchant.clone(), sign_type: self.sign_type, sub_appid: self.sub_appid.clone() }
    }

    /// The signed fields of the body, `sign` included.
    pub fn fields(&self) -> Result<Fields, ValidationError> {
        let mut fields = Fields::new();
        for (name, value) in self.request.v2_fields() {
            let value = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                // The request types write only strings and integers.
                _ => return Err(ValidationError::new(leak_field(&name), Rule::WrongType { expected: "a string" })),
            };
            fields.insert(name, value);
        }
        fields.insert("mch_id", self.merchant.mch_id().as_str());
        fields.insert("appid", self.merchant.appid().as_str());
        if let Some(sub_appid) = &self.sub_appid {
            fields.insert(SubAppId::FIELD, sub_appid.as_str());
        }
        fields.insert(SIGN_TYPE, self.sign_type.as_str());
        let signature = sign::sign(&fields, self.sign_type, self.merchant.key());
        fields.insert(SIGN, signature);
        Ok(fields)
    }
}

impl Call<RefundQueryRequest> {
    /// Sends `sub_appid`, the sub-merchant's app id (the refund query's optional field).
    pub fn with_sub_appid(mut self, sub_appid: SubAppId) -> Self {
        self.sub_appid = Some(sub_appid);
        self
    }
}

/// The names of the algorithms `R` accepts, for the validation error.
fn sign_type_names<R: V2Operation>() -> &'static [&'static str] {
    if R::SIGN_TYPES.contains(&SignType::Md5) { &["MD5", "HMAC-SHA256"] } else { &["HMAC-SHA256"] }
}

/// The request types name only documented fields, which are `'static` strings.
fn leak_field(name: &str) -> &'static str {
    ["sub_mch_id", "nonce_str", "offset"].into_iter().find(|f| *f == name).unwrap_or("body")
}

impl<R: V2Operation> Operation for Call<R> {
    type Output = R::Output;
    type Answer<'a> = &'a http::Response<Vec<u8>>;
    const SPEC: OperationSpec = R::V2_SPEC;

    /// `POST {base}{path}` with the signed `<xml>` body. The nonce must be set (a client fills
    /// it in; [`with_nonce`](crate::cloudpay::FinishRequest::with_nonce) by hand).
    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        let fields = self.fields()?;
        if fields.get(NonceStr::FIELD).is_none() {
            return Err(ValidationError::new(NonceStr::FIELD, Rule::Missing));
        }
        let mut request = http::Request::new(fields.to_xml().into_bytes());
        *request.method_mut() = Self::SPEC.method.as_http();
        *request.uri_mut() = base.join(Self::SPEC.path)?;
        request
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/xml; charset=utf-8"));
        Ok(request)
    }

    /// Verifies the answer's `sign` ([`to_cloudpay`](super::to_cloudpay)), then parses it.
    fn parse(&self, answer: &http::Response<Vec<u8>>) -> Result<R::Output, Error> {
        let cloudpay = super::to_cloudpay(answer, self.merchant.key(), self.sign_type)?;
        self.request.parse_cloudpay(&cloudpay).map_err(|e| super::answer::with_raw_body(e, answer.body()))
    }

    fn sub_merchant(&self) -> Option<&str> {
        self.request.sub_merchant()
    }

    fn fill_nonce(&mut self, fresh: impl FnOnce() -> NonceStr) {
        self.request.fill_nonce(fresh);
    }
}
