//! Building the call's requests and responses, and the 2xx retransmission schedule.

use std::time::{Duration, Instant};

use super::{Call, CallConfig};
use crate::message::{HeaderName, Method, NameAddr, Param, Request, Response, Uri};
use crate::transaction::placeholder_via;

pub(super) use super::ALLOW;

/// The SDP content type.
pub(super) const SDP: &str = "application/sdp";

/// Adds a placeholder `Via` (the transaction layer sets the branch) at the top.
pub(super) fn push_via(config: &CallConfig, request: &mut Request, rng: &mut impl rand::Rng) {
    request.headers.push_front(
        HeaderName::Via,
        placeholder_via(
            config.transport,
            config.via_sent_by.as_deref(),
            &config.contact,
            rng,
        ),
    );
}

/// Contact, Allow, Supported and User-Agent: what every dialog-forming or target-refresh
/// message of ours carries.
pub(super) fn push_capabilities(config: &CallConfig, headers: &mut crate::message::Headers) {
    headers.push(
        HeaderName::Contact,
        NameAddr::new(config.contact.clone()).to_string(),
    );
    headers.push(HeaderName::Allow, ALLOW);
    let mut supported: Vec<&str> = config.supported.iter().map(String::as_str).collect();
    if config.session_timer.enabled && !supported.contains(&"timer") {
        supported.push("timer");
    }
    if !supported.is_empty() {
        headers.push(HeaderName::Supported, supported.join(", "));
    }
}

/// Sets `body` as SDP (or no body).
pub(super) fn set_sdp(headers: &mut crate::message::Headers, body: &mut Vec<u8>, sdp: Vec<u8>) {
    if !sdp.is_empty() {
        headers.set(HeaderName::ContentType, SDP);
    }
    *body = sdp;
}

/// The initial INVITE to `target` (RFC 3261 §13.2.1).
pub(super) fn initial_invite(
    config: &CallConfig,
    target: &Uri,
    call_id: &str,
    local_tag: &str,
    seq: u32,
    sdp: Vec<u8>,
    rng: &mut impl rand::Rng,
) -> Request {
    let mut request = Request::new(Method::Invite, target.clone());
    push_via(config, &mut request, rng);
    let headers = &mut request.headers;
    headers.push(HeaderName::MaxForwards, "70");
    if let Some(proxy) = &config.outbound_proxy {
        headers.push(HeaderName::Route, format!("<{proxy}>"));
    }
    let mut from = NameAddr::new(config.local.clone());
    from.display_name = config.display_name.clone();
    from.params.push(Param::new("tag", local_tag));
    headers.push(HeaderName::From, from.to_string());
    let mut to_uri = target.clone();
    to_uri.params.clear();
    to_uri.headers.clear();
    headers.push(HeaderName::To, NameAddr::new(to_uri).to_string());
    headers.push(HeaderName::CallId, call_id);
    headers.push(HeaderName::CSeq, format!("{seq} INVITE"));
    push_capabilities(config, headers);
    if config.session_timer.enabled {
        headers.push(
            HeaderName::SessionExpires,
            config.session_timer.interval.as_secs().to_string(),
        );
        headers.push(
            HeaderName::MinSe,
            config.session_timer.min_interval.as_secs().to_string(),
        );
    }
    for (name, value) in &config.extra_headers {
        headers.push(name.clone(), value.clone());
    }
    if let Some(agent) = &config.user_agent {
        headers.push(HeaderName::UserAgent, agent.as_str());
    }
    set_sdp(&mut request.headers, &mut request.body, sdp);
    request
}

impl Call {
    /// An in-dialog request with the next CSeq, a Via and our User-Agent. `None` without a
    /// dialog.
    pub(super) fn dialog_request(&mut self, method: Method) -> Option<(Request, u32)> {
        let dialog = self.dialog.as_mut()?;
        let seq = dialog.next_seq();
        let mut request = dialog.request(method, seq);
        push_via(&self.config, &mut request, &mut self.rng);
        if let Some(agent) = &self.config.user_agent {
            request.headers.push(HeaderName::UserAgent, agent.as_str());
        }
        Some((request, seq))
    }

    /// A response of ours to `request`, with our tag on To and our Server header.
    pub(super) fn response_to(&self, request: &Request, status: u16, reason: &str) -> Response {
        let mut response =
            Response::for_request(request, crate::message::StatusCode(status), Some(reason));
        if status > 100 {
            set_to_tag(&mut response, &self.local_tag);
        }
        if request.method == Method::Invite && (101..300).contains(&status) {
            // RFC 3261 §12.1.1: the dialog's route set is the request's Record-Route, which the
            // caller learns from our provisional and 2xx answers.
            for route in request.headers.get_all(&HeaderName::RecordRoute) {
                response.headers.push(HeaderName::RecordRoute, route);
            }
        }
        if let Some(agent) = &self.config.user_agent {
            response.headers.push(HeaderName::Server, agent.as_str());
        }
        response
    }
}

/// Puts `tag` on the response's To unless it already has one.
pub(super) fn set_to_tag(response: &mut Response, tag: &str) {
    if let Ok(mut to) = response.headers.to_header()
        && to.tag().is_none()
    {
        to.params.push(Param::new("tag", tag));
        response.headers.set(HeaderName::To, to.to_string());
    }
}

/// Our 2xx to an INVITE, sent again at T1, 2·T1, … capped at T2 until the ACK comes; given
/// up after 64·T1 (RFC 3261 §13.3.1.4).
#[derive(Debug, Clone)]
pub(super) struct Retransmission {
    pub(super) response: Response,
    next: Instant,
    interval: Duration,
    cap: Duration,
    give_up: Instant,
}

impl Retransmission {
    pub(super) fn new(response: Response, now: Instant, t1: Duration, t2: Duration) -> Self {
        Retransmission {
            response,
            next: now + t1,
            interval: t1,
            cap: t2,
            give_up: now + t1 * 64,
        }
    }

    pub(super) fn next(&self) -> Instant {
        self.next.min(self.give_up)
    }

    /// `Some(true)` to send again now, `Some(false)` if nothing is due, `None` when the ACK
    /// never came.
    pub(super) fn due(&mut self, now: Instant) -> Option<bool> {
        if now >= self.give_up {
            return None;
        }
        if now < self.next {
            return Some(false);
        }
        self.interval = (self.interval * 2).min(self.cap);
        self.next = now + self.interval;
        Some(true)
    }
}
