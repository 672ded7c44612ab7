//! The keys that match messages to transactions (RFC 3261 §17.1.3 and §17.2.3).

use crate::message::{Method, Request, Response};

use super::BRANCH_MAGIC_COOKIE;

/// Client matching key (§17.1.3): the branch of the top `Via` and the `CSeq` method (so the
/// CANCEL of an INVITE, which shares its branch, is another transaction).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ClientKey {
    branch: String,
    method: Method,
}

impl ClientKey {
    pub(super) fn new(branch: String, method: Method) -> ClientKey {
        ClientKey { branch, method }
    }

    /// The key a response carries, if it has a branch and a valid `CSeq`.
    pub(super) fn of_response(response: &Response) -> Option<ClientKey> {
        let branch = response.headers.top_via().ok()?.branch()?.to_owned();
        let method = response.headers.cseq().ok()?.method;
        Some(ClientKey { branch, method })
    }
}

/// Server matching key (§17.2.3): the top `Via` branch and sent-by, and the method, with ACK
/// counted as INVITE. A branch without the magic cookie (an RFC 2543 peer) is replaced by the
/// Call-ID, `CSeq` number and From tag, which its retransmissions and its ACK to a non-2xx
/// share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ServerKey {
    branch: String,
    sent_by: String,
    method: Method,
}

impl ServerKey {
    /// The key of a request; `None` without a (parsable) top `Via`.
    pub(super) fn of(request: &Request) -> Option<ServerKey> {
        let via = request.headers.top_via().ok()?;
        let method = if request.method == Method::Ack {
            Method::Invite
        } else {
            request.method.clone()
        };
        let branch = match via.branch() {
            Some(b) if b.starts_with(BRANCH_MAGIC_COOKIE) => b.to_owned(),
            _ => rfc2543_branch(request),
        };
        Some(ServerKey {
            branch,
            sent_by: crate::message::hostport(&via.host, via.port),
            method,
        })
    }

    /// The same key for another method: a CANCEL's key with INVITE finds the INVITE it
    /// cancels (§9.2).
    pub(super) fn with_method(&self, method: Method) -> ServerKey {
        ServerKey {
            method,
            ..self.clone()
        }
    }
}

fn rfc2543_branch(request: &Request) -> String {
    let call_id = request.headers.call_id().unwrap_or_default();
    let seq = request.headers.cseq().map(|c| c.seq).unwrap_or_default();
    let tag = request
        .headers
        .from_header()
        .ok()
        .and_then(|f| f.tag().map(str::to_owned))
        .unwrap_or_default();
    format!("2543:{call_id}:{seq}:{tag}")
}
