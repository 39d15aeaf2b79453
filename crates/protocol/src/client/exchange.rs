//! One call, as a state machine the transports drive: `poll` says what to do (sleep, send, or
//! done); `on_response` and `on_transport_error` report what happened.

use std::sync::Arc;
use std::time::Duration;

use super::budget::{BudgetError, Permit, SharedBudget};
use super::config::ClientCore;
use super::entropy::{Entropy, random_nonce};
use crate::error::{Error, TransportError, UnverifiedResponse};
use crate::operation::{Answer, Api, Operation};
use crate::security::{self, CertificatesRequest, RefreshDecision, SigningError, SigningParams, VerificationError};

/// What the transport does next.
#[derive(Debug)]
#[non_exhaustive]
pub enum Step<T> {
    /// Wait this long, then `poll` again.
    Sleep(Duration),
    /// Send this request, then report with [`Exchange::on_response`] or
    /// [`Exchange::on_transport_error`].
    Send(http::Request<Vec<u8>>),
    /// Reserve a slot of `permit` from the shared `budget`, then report with
    /// [`Exchange::on_reserved`].
    Reserve {
        /// What to reserve.
        permit: Permit,
        /// Where ([`ClientConfig::shared_budget`](super::ClientConfig::shared_budget)).
        budget: Arc<dyn SharedBudget>,
    },
    /// The call is over.
    Done(Result<T, Error>),
}

#[derive(Debug)]
enum AfterCertificates {
    /// Then send the call.
    Send,
    /// Then verify this answer again (its serial was unknown).
    Reverify(http::Response<Vec<u8>>),
}

#[derive(Debug)]
enum State<T> {
    Start,
    RateLimit,
    AwaitingPermit,
    Reserved(Duration),
    Ready,
    AwaitingAnswer,
    Backoff(Error),
    FetchCertificates(AfterCertificates),
    AwaitingCertificates(AfterCertificates),
    Done(Option<Result<T, Error>>),
}

/// One call of `O`, from the first attempt to the final answer. It owns what it needs (the
/// client's shared state and the operation), so a driver can keep it anywhere.
#[derive(Debug)]
pub struct Exchange<O: Operation> {
    core: Arc<ClientCore>,
    operation: O,
    state: State<O::Output>,
    attempts: u32,
    started: Option<Duration>,
    refreshed_for_unknown_serial: bool,
    request_id: Option<String>,
}

impl<O: Operation> Exchange<O> {
    /// A call of `operation` by the client whose state is `core`.
    pub fn new(core: Arc<ClientCore>, operation: O) -> Self {
        Self {
            core,
            operation,
            state: State::Start,
            attempts: 0,
            started: None,
            refreshed_for_unknown_serial: false,
            request_id: None,
        }
    }

    /// How many times the call's request was sent so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The `Request-ID` of the last answer.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The operation.
    pub fn operation(&self) -> &O {
        &self.operation
    }

    /// What to do next. `now` is a monotonic reading (the time since an origin the driver
    /// chose, the same for every call of a client) and `unix` the wall clock in seconds (both
    /// from the driver); `entropy` supplies nonces and jitter.
    pub fn poll(&mut self, now: Duration, unix: i64, entropy: &mut (impl Entropy + ?Sized)) -> Step<O::Output> {
        loop {
            match std::mem::replace(&mut self.state, State::Start) {
                State::Start => {
                    self.started = Some(now);
                    self.state = State::RateLimit;
                    // Once per call: every attempt sends the same nonce (the identical request).
                    self.operation.fill_nonce(|| random_nonce(entropy));
                    if O::SPEC.needs_client_certificate() && self.core.config.client_identity.is_none() {
                        return self.finish(Err(SigningError::MissingClientCertificate(O::SPEC.name).into()));
                    }
                    if O::SPEC.api == Api::V3 {
                        if self.core.config.credentials.is_none() {
                            return self.finish(Err(SigningError::MissingCredentials.into()));
                        }
                        if self.core.apiv3_key().is_some() {
                            match self.core.scheduled_refresh(unix) {
                                RefreshDecision::RefreshNow => {
                                    self.state = State::FetchCertificates(AfterCertificates::Send);
                                }
                                RefreshDecision::NotBefore(_) if !self.core.has_keys() => {
                                    return self.finish(Err(VerificationError::NoKeys.into_error()));
                                }
                                _ => {}
                            }
                        }
                    }
                }
                State::RateLimit => {
                    self.state = State::Ready;
                    if let Some(budget) = self.core.config.shared_budget.clone() {
                        if let Some(permit) = self.core.permit(&O::SPEC, self.operation.sub_merchant()) {
                            self.state = State::AwaitingPermit;
                            return Step::Reserve { permit, budget };
                        }
                        continue;
                    }
                    let wait = self.core.reserve(&O::SPEC, self.operation.sub_merchant(), now);
                    if !wait.is_zero() {
                        return Step::Sleep(wait);
                    }
                }
                State::Reserved(wait) => {
                    self.state = State::Ready;
                    if !wait.is_zero() {
                        return Step::Sleep(wait);
                    }
                }
                State::Ready => {
                    let request = match self.build(unix, entropy, &self.operation) {
                        Ok(r) => r,
                        Err(e) => return self.finish(Err(e)),
                    };
                    self.attempts += 1;
                    self.state = State::AwaitingAnswer;
                    return Step::Send(request);
                }
                State::Backoff(error) => {
                    let policy = self.core.config.retry;
                    let delay = policy.delay(self.attempts, entropy.next_u64());
                    let elapsed = self.started.map_or(Duration::ZERO, |s| now.saturating_sub(s));
                    if self.attempts >= policy.max_attempts || elapsed + delay > policy.max_elapsed {
                        return self.finish(Err(error));
                    }
                    self.state = State::RateLimit;
                    return Step::Sleep(delay);
                }
                State::FetchCertificates(then) => {
                    let request = match self.build(unix, entropy, &CertificatesRequest) {
                        Ok(r) => r,
                        Err(e) => return self.finish(Err(e)),
                    };
                    self.state = State::AwaitingCertificates(then);
                    return Step::Send(request);
                }
                State::AwaitingAnswer | State::AwaitingCertificates(_) | State::AwaitingPermit => {
                    // Polled before reporting the answer: a driver bug, reported rather than hung.
                    return self.finish(Err(SigningError::OutOfOrder.into()));
                }
                State::Done(result) => {
                    self.state = State::Done(None);
                    let result = result.unwrap_or_else(|| Err(SigningError::OutOfOrder.into()));
                    return Step::Done(self.annotate(result));
                }
            }
        }
    }

    /// Reports the answer to the request of the last [`Step::Send`].
    pub fn on_response(&mut self, response: http::Response<Vec<u8>>, unix: i64) {
        self.request_id = crate::v3::request_id(&response).or(self.request_id.take());
        match std::mem::replace(&mut self.state, State::Start) {
            State::AwaitingAnswer => self.take_answer(response, unix),
            State::AwaitingCertificates(then) => {
                let downloaded = self.core.accept_certificates(&response, unix);
                match then {
                    AfterCertificates::Send => match downloaded {
                        Err(e) if !self.core.has_keys() => self.state = State::Done(Some(Err(e))),
                        _ => self.state = State::RateLimit,
                    },
                    AfterCertificates::Reverify(answer) => self.take_answer(answer, unix),
                }
            }
            other => self.state = other,
        }
    }

    /// Reports what the shared budget of the last [`Step::Reserve`] said: how long to wait for
    /// the slot it reserved, or why it gave none (the call then ends: nothing was sent).
    pub fn on_reserved(&mut self, reserved: Result<Duration, BudgetError>) {
        match std::mem::replace(&mut self.state, State::Start) {
            State::AwaitingPermit => {
                self.state = match reserved {
                    Ok(wait) => State::Reserved(wait),
                    Err(e) => State::Done(Some(Err(e.into()))),
                }
            }
            other => self.state = other,
        }
    }

    /// Reports that the request of the last [`Step::Send`] got no answer.
    pub fn on_transport_error(&mut self, error: TransportError, unix: i64) {
        match std::mem::replace(&mut self.state, State::Start) {
            State::AwaitingAnswer => self.fail(Error::from(error.on_write(O::SPEC.is_write()))),
            State::AwaitingCertificates(then) => {
                self.core.record_download_failure(unix);
                match then {
                    AfterCertificates::Send if self.core.has_keys() => self.state = State::RateLimit,
                    AfterCertificates::Send => self.state = State::Done(Some(Err(error.into()))),
                    AfterCertificates::Reverify(answer) => self.take_answer(answer, unix),
                }
            }
            other => self.state = other,
        }
    }

    fn build<P: Operation>(
        &self,
        unix: i64,
        entropy: &mut (impl Entropy + ?Sized),
        operation: &P,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let mut request = operation.build(self.core.base_for(&P::SPEC))?;
        if P::SPEC.api == Api::V3 {
            let credentials = self.core.config.credentials.as_ref().ok_or(SigningError::MissingCredentials)?;
            let nonce = random_nonce(entropy);
            let keys = self.core.keys();
            let mut params =
                SigningParams::new(credentials, unix, &nonce).user_agent(self.core.config.user_agent.as_str());
            if let Some(serial) = keys.preferred_serial() {
                params = params.wechatpay_serial(serial);
            }
            security::sign_request(&request, &params)?.apply_to(&mut request);
        }
        Ok(request)
    }

    /// Admits (v3: verifies) and parses an answer; an unknown serial in certificate mode
    /// triggers one rate-limited refresh, after which the same answer is verified again.
    fn take_answer(&mut self, response: http::Response<Vec<u8>>, unix: i64) {
        let admitted = O::Answer::admit(&response, unix, &*self.core.keys()).map(|answer| self.operation.parse(answer));
        let parsed = match admitted {
            Ok(parsed) => parsed,
            Err(e) => {
                let refresh = matches!(e, VerificationError::UnknownSerial(_))
                    && self.core.apiv3_key().is_some()
                    && !self.refreshed_for_unknown_serial;
                if refresh {
                    self.refreshed_for_unknown_serial = true;
                    if self.core.unknown_serial(unix) == RefreshDecision::RefreshNow {
                        self.state = State::FetchCertificates(AfterCertificates::Reverify(response));
                        return;
                    }
                }
                Err(UnverifiedResponse::new(e, &response).into())
            }
        };
        match parsed {
            Ok(output) => self.state = State::Done(Some(Ok(output))),
            Err(e) => self.fail(e),
        }
    }

    fn fail(&mut self, error: Error) {
        self.state = if error.is_retryable() { State::Backoff(error) } else { State::Done(Some(Err(error))) };
    }

    fn finish(&mut self, result: Result<O::Output, Error>) -> Step<O::Output> {
        self.state = State::Done(None);
        Step::Done(self.annotate(result))
    }

    /// A transport failure that ends the call says how many attempts were made and the last
    /// `Request-ID`.
    fn annotate(&self, result: Result<O::Output, Error>) -> Result<O::Output, Error> {
        result.map_err(|e| match e {
            Error::Transport(t) => Error::Transport(t.after_attempts(self.attempts, self.request_id.clone())),
            other => other,
        })
    }
}

impl VerificationError {
    fn into_error(self) -> Error {
        Error::Verification(Box::new(UnverifiedResponse::without_response(self)))
    }
}
