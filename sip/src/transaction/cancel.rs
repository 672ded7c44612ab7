//! CANCEL (RFC 3261 §9): building one for our INVITE, and answering one for theirs.

use super::TransactionError;
use crate::message::{HeaderName, Method, Param, Request, Response, StatusCode};

/// The CANCEL of `invite` (§9.1): its Request-URI, top `Via` (so the same branch), `From`,
/// `To`, `Call-ID`, `Route` and `CSeq` number, with method CANCEL.
pub(super) fn build_cancel(invite: &Request) -> Result<Request, TransactionError> {
    let headers = &invite.headers;
    let via = headers.top_via().map_err(|_| TransactionError::NoVia)?;
    let cseq = headers.cseq().map_err(|_| TransactionError::NoCSeq)?;
    let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
    cancel.headers.push(HeaderName::Via, via.to_string());
    cancel.headers.push(HeaderName::MaxForwards, "70");
    for name in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
        if let Some(value) = headers.get(&name) {
            cancel.headers.push(name, value);
        }
    }
    cancel
        .headers
        .push(HeaderName::CSeq, format!("{} CANCEL", cseq.seq));
    for route in headers.get_all(&HeaderName::Route) {
        cancel.headers.push(HeaderName::Route, route);
    }
    Ok(cancel)
}

/// The answer to a received CANCEL (§9.2): 200 when it matched an INVITE transaction
/// (whether or not that one still awaits its final response), 481 otherwise; with a To-tag
/// (§8.2.6.2) derived from the CANCEL, so a retransmitted CANCEL gets the same answer.
pub(super) fn answer_cancel(cancel: &Request, matched: bool) -> Response {
    let status = if matched {
        StatusCode::OK
    } else {
        StatusCode::NO_TRANSACTION
    };
    let mut response = Response::for_request(cancel, status, None);
    if let Ok(mut to) = response.headers.to_header()
        && to.tag().is_none()
    {
        to.params.push(Param::new("tag", derived_tag(cancel)));
        response.headers.set(HeaderName::To, to.to_string());
    }
    response
}

/// A tag from the CANCEL's branch and Call-ID (FNV-1a), so the layer needs no RNG here.
fn derived_tag(request: &Request) -> String {
    let branch = request
        .headers
        .top_via()
        .ok()
        .and_then(|v| v.branch().map(str::to_owned))
        .unwrap_or_default();
    let call_id = request.headers.call_id().unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in branch.bytes().chain(call_id.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}
