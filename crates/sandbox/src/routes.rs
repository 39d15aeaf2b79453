//! What the sandbox answers for each operation: one [`Route`] per operation the protocol
//! describes, keyed by its [`OperationSpec`]. The server finds the route by the spec's method
//! and path, applies the spec's rate limit, and writes the outcome in the spec's wire
//! ([`crate::server`]); a route only reads the request with the protocol's server-side reader
//! and answers it from the state. Adding an API v3 query to the sandbox is one entry here and
//! its records in the fixture file's `v3` map.
//!
//! The CloudPay operations are served on two wires: CloudPay's JSON and WeChat Pay's v2 XML
//! (docs/protocol.md §5). Both call the same business function ([`return_query`], [`finish`],
//! [`refund_query`]: the state, then the CloudPay encoder); only reading the request and
//! writing the answer differ ([`v2`]).

use http::Request;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wxpay_protocol::cloudpay::{CloudPayOp, Failure, NumberStyle, ReplyShape};
use wxpay_protocol::security::CertificatesRequest;
use wxpay_protocol::v2::{RequestError, V2Operation};
use wxpay_protocol::{ErrorCode, Operation, OperationSpec, ValidationError, cloudpay, v3};

use crate::server::{Shared, certificates};
use crate::state::Refusal;

/// What a route made of a request.
#[derive(Debug)]
pub(crate) enum Served {
    /// A successful answer's body, in the wire's format.
    Answer(Vec<u8>),
    /// A failure: the code and message the wire reports it with.
    Refused(Refusal),
}

/// Serves one CloudPay or API v3 request at Unix time `now`.
pub(crate) type ServeJson = fn(&Shared, &Request<Vec<u8>>, i64) -> Served;

/// Serves one v2 request at Unix time `now`, answering `forced` once it is read, if given.
pub(crate) type ServeV2 = fn(&Shared, &Request<Vec<u8>>, i64, Option<Refusal>) -> Vec<u8>;

/// How a route answers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Serve {
    /// CloudPay JSON and API v3: serves one request at Unix time `now`; the server writes a
    /// refusal in the wire's failure format.
    Json(ServeJson),
    /// The v2 wire: serves one request at `now` and writes the whole `<xml>` answer, failures
    /// included (only the route knows the algorithm to sign them with). `forced` is a failure
    /// the fault injection imposes once the request has been read.
    V2(ServeV2),
}

/// One operation the sandbox serves.
#[derive(Debug)]
pub(crate) struct Route {
    /// The operation's description (method, path, wire, rate limit).
    pub(crate) spec: &'static OperationSpec,
    /// How it is answered.
    pub(crate) serve: Serve,
    /// For an API v3 query answered from the fixture file's `v3` map: checks that a fixture
    /// answer reads as the operation's answer type (the reason when it does not).
    pub(crate) fixture: Option<CheckFixture>,
}

/// Checks a fixture answer; the reason when it does not read as the answer type.
pub(crate) type CheckFixture = fn(&Value) -> Result<(), String>;

/// Every operation the sandbox serves.
pub(crate) const ROUTES: &[Route] = &[
    Route {
        spec: &cloudpay::ReturnQueryRequest::SPEC,
        serve: Serve::Json(|shared, request, now| {
            answer(shared, cloudpay::ReturnQueryRequest::from_body(request.body()), |r| {
                return_query(shared, r, now, shared.shape)
            })
        }),
        fixture: None,
    },
    Route {
        spec: &cloudpay::FinishRequest::SPEC,
        serve: Serve::Json(|shared, request, now| {
            answer(shared, cloudpay::FinishRequest::from_body(request.body()), |r| finish(shared, r, now, shared.shape))
        }),
        fixture: None,
    },
    Route {
        spec: &cloudpay::RefundQueryRequest::SPEC,
        serve: Serve::Json(|shared, request, now| {
            answer(shared, cloudpay::RefundQueryRequest::from_body(request.body()), |r| {
                refund_query(shared, r, now, shared.shape)
            })
        }),
        fixture: None,
    },
    Route {
        spec: &<cloudpay::ReturnQueryRequest as V2Operation>::V2_SPEC,
        serve: Serve::V2(|shared, request, now, forced| {
            v2(shared, request, forced, |r| return_query(shared, r, now, v2_shape()))
        }),
        fixture: None,
    },
    Route {
        spec: &<cloudpay::FinishRequest as V2Operation>::V2_SPEC,
        serve: Serve::V2(|shared, request, now, forced| {
            v2(shared, request, forced, |r| finish(shared, r, now, v2_shape()))
        }),
        fixture: None,
    },
    Route {
        spec: &<cloudpay::RefundQueryRequest as V2Operation>::V2_SPEC,
        serve: Serve::V2(|shared, request, now, forced| {
            v2(shared, request, forced, |r| refund_query(shared, r, now, v2_shape()))
        }),
        fixture: None,
    },
    Route {
        spec: &v3::OrderQueryRequest::SPEC,
        serve: Serve::Json(|shared, request, now| {
            v3_query(shared, request, now, v3::OrderQueryRequest::from_query, |order: &mut v3::OrderQueryResponse| {
                order.status = v3::OrderStatus::Processing;
                order.close_reason = None;
                for receiver in order.receivers.iter_mut().flatten() {
                    receiver.result = v3::ReceiverResult::Pending;
                    receiver.finish_time = None;
                    receiver.fail_reason = None;
                }
            })
        }),
        fixture: Some(fixture::<v3::OrderQueryResponse>),
    },
    Route {
        spec: &v3::ReturnQueryRequest::SPEC,
        serve: Serve::Json(|shared, request, now| {
            v3_query(shared, request, now, v3::ReturnQueryRequest::from_query, |ret: &mut v3::ReturnQueryResponse| {
                ret.result = v3::ReturnResult::Processing;
                ret.fail_reason = None;
                ret.finish_time = None;
            })
        }),
        fixture: Some(fixture::<v3::ReturnQueryResponse>),
    },
    Route {
        spec: &CertificatesRequest::SPEC,
        serve: Serve::Json(|shared, _, _| {
            answer(shared, Ok(CertificatesRequest), |_| {
                certificates(shared)
                    .map_err(|_| Refusal::new(ErrorCode::SystemErrorV3, "cannot encrypt the certificate"))
                    .and_then(|a| json(&a))
            })
        }),
        fixture: None,
    },
];

/// The route of the operation at `path`, whatever the method (a wrong method is answered 405).
pub(crate) fn route_at(path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|route| route.spec.path == path)
}

/// The route of the operation named `name`.
pub(crate) fn route_named(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|route| route.spec.name == name)
}

/// The query string of a v3 request.
fn query(request: &Request<Vec<u8>>) -> &str {
    request.uri().query().unwrap_or("")
}

// ------------------------------------------------------------------------------------------
// The CloudPay operations' business, whichever wire they came by: the answer as the CloudPay
// encoder writes it in `shape`.

/// Profit-sharing return query (docs/protocol.md §8.1).
fn return_query(
    shared: &Shared,
    r: &cloudpay::ReturnQueryRequest,
    now: i64,
    shape: ReplyShape,
) -> Result<Vec<u8>, Refusal> {
    shared.state.return_query(r, now).map(|a| a.encode(shape))
}

/// Profit-sharing finish (docs/protocol.md §8.3).
fn finish(shared: &Shared, r: &cloudpay::FinishRequest, _now: i64, shape: ReplyShape) -> Result<Vec<u8>, Refusal> {
    shared.state.finish(r).map(|a| a.encode(shape))
}

/// Refund query (docs/protocol.md §8.5).
fn refund_query(
    shared: &Shared,
    r: &cloudpay::RefundQueryRequest,
    _now: i64,
    shape: ReplyShape,
) -> Result<Vec<u8>, Refusal> {
    shared.state.refund_query(r).map(|a| a.encode(shape))
}

/// Rate-limits a request of the operation `spec` and answers it: one over the operation's limit
/// is FREQUENCY_LIMITED (counted per what its spec says).
fn limited<R: Operation>(
    shared: &Shared,
    spec: &OperationSpec,
    request: &R,
    respond: impl FnOnce(&R) -> Result<Vec<u8>, Refusal>,
) -> Result<Vec<u8>, Refusal> {
    if !shared.limits.admit(spec, request.sub_merchant()) {
        return Err(Refusal::new(ErrorCode::FrequencyLimited, "请求过多被频率限制"));
    }
    respond(request)
}

/// Reads, rate-limits and answers a request of `R`: an unreadable request is PARAM_ERROR, one
/// over the operation's limit FREQUENCY_LIMITED (counted per what its spec says).
fn answer<R: Operation>(
    shared: &Shared,
    read: Result<R, ValidationError>,
    respond: impl FnOnce(&R) -> Result<Vec<u8>, Refusal>,
) -> Served {
    let request = match read {
        Ok(request) => request,
        Err(invalid) => return Served::Refused(Refusal::new(ErrorCode::ParamError, invalid.to_string())),
    };
    match limited(shared, &R::SPEC, &request, respond) {
        Ok(body) => Served::Answer(body),
        Err(refusal) => Served::Refused(refusal),
    }
}

// ------------------------------------------------------------------------------------------
// The v2 wire (docs/protocol.md §5)

/// The shape a CloudPay answer is written in before it becomes v2 XML: the documented one
/// (bare, snake_case, indexed lists), integers as digit strings as the XML carries them.
fn v2_shape() -> ReplyShape {
    ReplyShape::new().number_style(NumberStyle::Strings)
}

/// A v2 `return_code = FAIL` answer: unsigned, as WeChat Pay writes them (docs/protocol.md §5).
pub(crate) fn v2_fail(message: &str) -> Vec<u8> {
    let mut fields = wxpay_protocol::v2::Fields::new();
    fields.insert("return_code", "FAIL");
    fields.insert("return_msg", message);
    fields.to_xml().into_bytes()
}

/// The `return_msg` of a request refused before it was read (docs/sandbox.md, "The v2 wire").
fn request_error_message<R: V2Operation>(error: &RequestError) -> String {
    match error {
        RequestError::MissingSign | RequestError::BadSign => "签名错误".to_owned(),
        RequestError::Xml(_) => "XML格式错误".to_owned(),
        RequestError::UnknownSignType => "参数错误: sign_type 只能是 MD5 或 HMAC-SHA256".to_owned(),
        RequestError::SignTypeNotAllowed(_) => {
            let accepted: Vec<&str> = R::SIGN_TYPES.iter().map(|t| t.as_str()).collect();
            format!("参数错误: 本接口的 sign_type 只能是 {}", accepted.join(" 或 "))
        }
        RequestError::Invalid(invalid) => format!("参数错误: {} ({})", invalid.field(), invalid.rule()),
        _ => "参数错误".to_owned(),
    }
}

/// Serves a v2 request of `R`: verified and read with the protocol's server-side reader (XML,
/// the algorithm the endpoint accepts, the signature under the API v2 key, every field), checked
/// to be the sandbox merchant's and app's, rate-limited under the v2 operation's own limit, and
/// answered by the same business function as on CloudPay; the CloudPay answer (or failure) is
/// then written as signed XML with `mch_id`, `appid` and a fresh `nonce_str`, signed with the
/// request's algorithm when `return_code` is `SUCCESS`.
fn v2<R: V2Operation>(
    shared: &Shared,
    request: &Request<Vec<u8>>,
    forced: Option<Refusal>,
    respond: impl FnOnce(&R) -> Result<Vec<u8>, Refusal>,
) -> Vec<u8> {
    let keys = &shared.v2;
    let received = match wxpay_protocol::v2::read_request::<R>(request.body(), keys.apiv2_key()) {
        Ok(received) => received,
        Err(error) => return v2_fail(&request_error_message::<R>(&error)),
    };
    if received.mch_id != shared.keys.mchid {
        return v2_fail(&format!("mch_id 不是本沙箱的商户号 {}", shared.keys.mchid));
    }
    if received.appid.as_str() != keys.appid() {
        return v2_fail("appid和mch_id不匹配");
    }
    let Some(op) = CloudPayOp::from_name(R::SPEC.name) else { return v2_fail("系统错误") };
    let answer = match forced {
        Some(refusal) => Err(refusal),
        None => limited(shared, &R::V2_SPEC, &received.request, respond),
    };
    let json =
        answer.unwrap_or_else(|refusal| Failure::with_code(refusal.code, &refusal.message).encode(op, v2_shape()));
    let nonce = wxpay_system::random_alphanumeric(32);
    let add = [("mch_id", shared.keys.mchid.as_str()), ("appid", keys.appid()), ("nonce_str", nonce.as_str())];
    wxpay_protocol::v2::encode_answer(&json, &add, keys.apiv2_key(), received.sign_type)
        .unwrap_or_else(|| v2_fail("系统错误"))
}

/// Answers an API v3 query from the fixture file's `v3` map: the record whose fields equal the
/// request's parameters, read as the operation's answer type, and shown as `processing` shows
/// it while the record has not settled.
fn v3_query<R: Operation<Output = T>, T: Serialize + DeserializeOwned>(
    shared: &Shared,
    request: &Request<Vec<u8>>,
    now: i64,
    read: fn(&str) -> Result<R, ValidationError>,
    processing: fn(&mut T),
) -> Served {
    let query = query(request);
    answer(shared, read(query), |_| {
        let params =
            v3::query_params(query).map_err(|invalid| Refusal::new(ErrorCode::ParamError, invalid.to_string()))?;
        let read = shared.state.v3_query(R::SPEC.name, &params, now)?;
        let mut typed: T = serde_json::from_value(read.answer.clone())
            .map_err(|_| Refusal::new(ErrorCode::SystemErrorV3, "the fixture does not read as the answer"))?;
        if read.processing {
            processing(&mut typed);
        }
        if read.settled_now {
            // The receivers or the return reached their final state: WeChat Pay notifies.
            crate::notify::notify_settled(shared, R::SPEC.name, &read.answer);
        }
        json(&typed)
    })
}

/// Checks that a fixture answer reads as `T`.
fn fixture<T: DeserializeOwned>(answer: &Value) -> Result<(), String> {
    T::deserialize(answer).map(drop).map_err(|e| e.to_string())
}

/// A v3 answer as JSON.
fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Refusal> {
    serde_json::to_vec(value).map_err(|_| Refusal::new(ErrorCode::SystemErrorV3, "cannot encode the answer"))
}
