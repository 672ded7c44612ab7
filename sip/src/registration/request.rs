//! Building REGISTER requests and reading what the registrar answered.

use std::time::Duration;

use rand::rngs::StdRng;

use super::RegistrationConfig;
use crate::message::{HeaderName, Host, Method, NameAddr, Param, Request, Response, Uri};
use crate::transaction::placeholder_via;

/// A REGISTER with every header RFC 3261 §10.2 asks for. The transaction layer sets the
/// `branch` on the Via.
pub(super) fn build_register(
    config: &RegistrationConfig,
    call_id: &str,
    from_tag: &str,
    cseq: u32,
    expires: u32,
    rng: &mut StdRng,
) -> Request {
    let mut request = Request::new(Method::Register, config.registrar.clone());
    request.headers.push(
        HeaderName::Via,
        placeholder_via(
            config.transport,
            config.via_sent_by.as_deref(),
            &config.contact,
            rng,
        ),
    );
    request.headers.push(HeaderName::MaxForwards, "70");
    let mut from = NameAddr::new(config.aor.clone());
    from.display_name = config.display_name.clone();
    from.params.push(Param::new("tag", from_tag));
    request.headers.push(HeaderName::From, from.to_string());
    request.headers.push(
        HeaderName::To,
        NameAddr::new(config.aor.clone()).to_string(),
    );
    request.headers.push(HeaderName::CallId, call_id);
    request
        .headers
        .push(HeaderName::CSeq, format!("{cseq} REGISTER"));
    let mut contact = NameAddr::new(config.contact.clone());
    if let Some(instance) = &config.instance_id {
        contact
            .params
            .push(Param::new("+sip.instance", format!("\"<{instance}>\"")));
        if let Some(reg_id) = config.reg_id {
            contact
                .params
                .push(Param::new("reg-id", reg_id.to_string()));
            request.headers.push(HeaderName::Supported, "outbound");
        }
    }
    contact
        .params
        .push(Param::new("expires", expires.to_string()));
    request
        .headers
        .push(HeaderName::Contact, contact.to_string());
    request
        .headers
        .push(HeaderName::Expires, expires.to_string());
    if let Some(agent) = &config.user_agent {
        request.headers.push(HeaderName::UserAgent, agent.as_str());
    }
    request.headers.push(HeaderName::Allow, crate::call::ALLOW);
    request
}

/// The `Min-Expires` of a 423 Interval Too Brief.
pub(super) fn min_expires(response: &Response) -> Option<u32> {
    leading_seconds(response.headers.get(&HeaderName::MinExpires)?)
}

/// The `Retry-After` of a response (its seconds; a comment or parameters after them are
/// ignored).
pub(super) fn retry_after(response: &Response) -> Option<Duration> {
    let seconds = leading_seconds(response.headers.get(&HeaderName::RetryAfter)?)?;
    Some(Duration::from_secs(u64::from(seconds)))
}

/// The delta-seconds at the start of a header value (`120`, `120;duration=60`, `120 (busy)`).
fn leading_seconds(value: &str) -> Option<u32> {
    let value = value.trim_start();
    let end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    value.get(..end)?.parse().ok()
}

/// The lifetime the registrar granted our contact: its `expires` parameter in the 200's
/// Contact list (matched on user, host and port), else the `Expires` header.
pub(super) fn granted_expires(response: &Response, ours: &Uri) -> Option<u32> {
    let contacts = response.headers.contacts().unwrap_or_default();
    let mine = contacts.iter().find(|c| same_binding(&c.uri, ours));
    mine.and_then(|c| {
        c.param("expires")
            .flatten()
            .and_then(|v| v.trim().parse().ok())
    })
    .or_else(|| response.headers.expires())
}

fn same_binding(a: &Uri, b: &Uri) -> bool {
    let host_eq = match (&a.host, &b.host) {
        (Host::Domain(x), Host::Domain(y)) => x.eq_ignore_ascii_case(y),
        (x, y) => x == y,
    };
    host_eq && a.user == b.user && a.port.unwrap_or(0) == b.port.unwrap_or(0)
}
