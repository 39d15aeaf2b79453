//! What the sandbox answers for each operation: one [`Route`] per operation the protocol
//! describes, keyed by its [`OperationSpec`]. The server finds the route by the spec's method
//! and path, applies the spec's rate limit, and writes the outcome in the spec's wire
//! ([`crate::server`]); a route only reads the request with the protocol's server-side reader
//! and answers it from the state. Adding an API v3 query to the sandbox is one entry here and
//! its records in the fixture file's `v3` map.

use http::Request;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wxpay_protocol::security::CertificatesRequest;
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

/// Serves one request of a route's operation at Unix time `now`.
pub(crate) type Serve = fn(&Shared, &Request<Vec<u8>>, i64) -> Served;

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
        serve: |shared, request, now| {
            answer(shared, cloudpay::ReturnQueryRequest::from_body(request.body()), |r| {
                shared.state.return_query(r, now).map(|a| a.encode(shared.shape))
            })
        },
        fixture: None,
    },
    Route {
        spec: &cloudpay::FinishRequest::SPEC,
        serve: |shared, request, _| {
            answer(shared, cloudpay::FinishRequest::from_body(request.body()), |r| {
                shared.state.finish(r).map(|a| a.encode(shared.shape))
            })
        },
        fixture: None,
    },
    Route {
        spec: &cloudpay::RefundQueryRequest::SPEC,
        serve: |shared, request, _| {
            answer(shared, cloudpay::RefundQueryRequest::from_body(request.body()), |r| {
                shared.state.refund_query(r).map(|a| a.encode(shared.shape))
            })
        },
        fixture: None,
    },
    Route {
        spec: &v3::OrderQueryRequest::SPEC,
        serve: |shared, request, now| {
            v3_query(shared, request, now, v3::OrderQueryRequest::from_query, |order: &mut v3::OrderQueryResponse| {
                order.status = v3::OrderStatus::Processing;
                order.close_reason = None;
                for receiver in order.receivers.iter_mut().flatten() {
                    receiver.result = v3::ReceiverResult::Pending;
                    receiver.finish_time = None;
                    receiver.fail_reason = None;
                }
            })
        },
        fixture: Some(fixture::<v3::OrderQueryResponse>),
    },
    Route {
        spec: &v3::ReturnQueryRequest::SPEC,
        serve: |shared, request, now| {
            v3_query(shared, request, now, v3::ReturnQueryRequest::from_query, |ret: &mut v3::ReturnQueryResponse| {
                ret.result = v3::ReturnResult::Processing;
                ret.fail_reason = None;
                ret.finish_time = None;
            })
        },
        fixture: Some(fixture::<v3::ReturnQueryResponse>),
    },
    Route {
        spec: &CertificatesRequest::SPEC,
        serve: |shared, _, _| {
            answer(shared, Ok(CertificatesRequest), |_| {
                certificates(shared)
                    .map_err(|_| Refusal::new(ErrorCode::SystemErrorV3, "cannot encrypt the certificate"))
                    .and_then(|a| json(&a))
            })
        },
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
    if !shared.limits.admit(&R::SPEC, request.sub_merchant()) {
        return Served::Refused(Refusal::new(ErrorCode::FrequencyLimited, "请求过多被频率限制"));
    }
    match respond(&request) {
        Ok(body) => Served::Answer(body),
        Err(refusal) => Served::Refused(refusal),
    }
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
