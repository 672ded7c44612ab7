//! The dialog (RFC 3261 §12): the state two user agents share once an INVITE has been
//! answered, and the in-dialog requests built from it.
//!
//! ```
//! use lockphone_sip::dialog::Dialog;
//! use lockphone_sip::message::{Message, Method};
//!
//! let invite = Message::parse(
//!     b"INVITE sip:bob@192.0.2.2 SIP/2.0\r\n\
//!       Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1\r\n\
//!       From: <sip:alice@example.test>;tag=a1\r\n\
//!       To: <sip:bob@example.test>\r\n\
//!       Call-ID: c1\r\nCSeq: 7 INVITE\r\n\
//!       Contact: <sip:alice@192.0.2.1:5061;transport=tls>\r\n\
//!       Content-Length: 0\r\n\r\n",
//! ).unwrap();
//! let Message::Request(invite) = invite else { unreachable!() };
//! let dialog = Dialog::for_uas(&invite, "b2".to_owned()).unwrap();
//! let bye = dialog.request(Method::Bye, 1);
//! assert_eq!(bye.uri.to_string(), "sip:alice@192.0.2.1:5061;transport=tls");
//! assert_eq!(bye.headers.get(&lockphone_sip::HeaderName::CallId), Some("c1"));
//! ```

use crate::message::{HeaderName, Method, NameAddr, Param, ParseError, Request, Response, Uri};

/// What identifies a dialog: Call-ID and the two tags, seen from our side.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The far end's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog an incoming in-dialog request belongs to (its To tag is ours).
    pub fn of_incoming(request: &Request) -> Option<DialogId> {
        Some(DialogId {
            call_id: request.headers.call_id().ok()?.to_owned(),
            local_tag: request.headers.to_header().ok()?.tag()?.to_owned(),
            remote_tag: request.headers.from_header().ok()?.tag()?.to_owned(),
        })
    }
}

/// Why a dialog could not be formed from a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog needs is missing or malformed.
    #[error("cannot form a dialog: {0}")]
    Header(#[from] ParseError),
    /// The far end's tag is missing.
    #[error("cannot form a dialog: the {0} header has no tag")]
    NoTag(&'static str),
    /// The far end gave no Contact, so in-dialog requests have no target.
    #[error("cannot form a dialog: no Contact (the far end gave no target for later requests)")]
    NoContact,
}

/// One dialog's state.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// Call-ID and tags.
    pub id: DialogId,
    /// Our URI (From in our requests).
    pub local_uri: NameAddr,
    /// The far end's URI (To in our requests).
    pub remote_uri: NameAddr,
    /// The CSeq number of our last request in the dialog.
    pub local_seq: u32,
    /// The CSeq number of the far end's last request, if any.
    pub remote_seq: Option<u32>,
    /// Where in-dialog requests go (the far end's Contact).
    pub remote_target: Uri,
    /// The route set, in the order our requests carry it.
    pub route_set: Vec<NameAddr>,
}

impl Dialog {
    /// The dialog a caller forms from a 1xx (with To tag) or 2xx answering `invite`.
    pub fn for_uac(invite: &Request, response: &Response) -> Result<Dialog, DialogError> {
        let to = response.headers.to_header()?;
        let remote_tag = to.tag().ok_or(DialogError::NoTag("To"))?.to_owned();
        let from = invite.headers.from_header()?;
        let local_tag = from.tag().ok_or(DialogError::NoTag("From"))?.to_owned();
        let remote_target = first_contact(response.headers.contacts()?)?;
        let mut route_set = response.headers.record_routes()?;
        route_set.reverse();
        Ok(Dialog {
            id: DialogId {
                call_id: invite.headers.call_id()?.to_owned(),
                local_tag,
                remote_tag,
            },
            local_uri: without_tag(from),
            remote_uri: without_tag(to),
            local_seq: invite.headers.cseq()?.seq,
            remote_seq: None,
            remote_target,
            route_set,
        })
    }

    /// The dialog a callee forms from `invite`, with `local_tag` as its To tag.
    pub fn for_uas(invite: &Request, local_tag: String) -> Result<Dialog, DialogError> {
        let from = invite.headers.from_header()?;
        let remote_tag = from.tag().ok_or(DialogError::NoTag("From"))?.to_owned();
        let to = invite.headers.to_header()?;
        Ok(Dialog {
            id: DialogId {
                call_id: invite.headers.call_id()?.to_owned(),
                local_tag,
                remote_tag,
            },
            local_uri: without_tag(to),
            remote_uri: without_tag(from),
            local_seq: 0,
            remote_seq: Some(invite.headers.cseq()?.seq),
            remote_target: first_contact(invite.headers.contacts()?)?,
            route_set: invite.headers.record_routes()?,
        })
    }

    /// Takes a new target from a target-refresh request or its 2xx (a re-INVITE or UPDATE
    /// carrying a Contact).
    pub fn refresh_target(&mut self, contacts: Result<Vec<NameAddr>, ParseError>) {
        if let Ok(Some(contact)) = contacts.map(|c| c.into_iter().next()) {
            self.remote_target = contact.uri;
        }
    }

    /// Checks the CSeq of an incoming in-dialog request (§12.2.2): lower than the last one
    /// means out of order (answer 500).
    pub fn accept_remote_seq(&mut self, seq: u32) -> bool {
        match self.remote_seq {
            Some(last) if seq < last => false,
            _ => {
                self.remote_seq = Some(seq);
                true
            }
        }
    }

    /// The next CSeq number for a new request of ours.
    pub fn next_seq(&mut self) -> u32 {
        self.local_seq = self.local_seq.wrapping_add(1).max(1);
        self.local_seq
    }

    /// The URI an in-dialog request is sent to first: the first route, else the target.
    pub fn next_hop(&self) -> &Uri {
        self.route_set
            .first()
            .map_or(&self.remote_target, |route| &route.uri)
    }

    /// An in-dialog request with CSeq `seq` (§12.2.1.1): Request-URI and Route from the
    /// route set (loose or strict routing), From/To with the tags, Call-ID, CSeq,
    /// Max-Forwards. The caller adds Via, Contact, body and the rest.
    pub fn request(&self, method: Method, seq: u32) -> Request {
        let strict = self
            .route_set
            .first()
            .is_some_and(|route| route.uri.param("lr").is_none());
        let (uri, routes): (Uri, Vec<String>) = if strict {
            let mut routes: Vec<String> = self
                .route_set
                .iter()
                .skip(1)
                .map(ToString::to_string)
                .collect();
            routes.push(format!("<{}>", self.remote_target));
            let first = self
                .route_set
                .first()
                .map_or_else(|| self.remote_target.clone(), |r| r.uri.clone());
            (strip_uri_headers(first), routes)
        } else {
            (
                strip_uri_headers(self.remote_target.clone()),
                self.route_set.iter().map(ToString::to_string).collect(),
            )
        };
        let mut request = Request::new(method.clone(), uri);
        let mut from = self.local_uri.clone();
        from.params
            .push(Param::new("tag", self.id.local_tag.clone()));
        let mut to = self.remote_uri.clone();
        to.params
            .push(Param::new("tag", self.id.remote_tag.clone()));
        let headers = &mut request.headers;
        headers.push(HeaderName::MaxForwards, "70");
        headers.push(HeaderName::From, from.to_string());
        headers.push(HeaderName::To, to.to_string());
        headers.push(HeaderName::CallId, self.id.call_id.clone());
        headers.push(HeaderName::CSeq, format!("{seq} {method}"));
        for route in routes {
            headers.push(HeaderName::Route, route);
        }
        request
    }
}

fn first_contact(contacts: Vec<NameAddr>) -> Result<Uri, DialogError> {
    contacts
        .into_iter()
        .next()
        .map(|c| c.uri)
        .ok_or(DialogError::NoContact)
}

fn without_tag(mut name: NameAddr) -> NameAddr {
    name.params.retain(|p| !p.name.eq_ignore_ascii_case("tag"));
    name
}

fn strip_uri_headers(mut uri: Uri) -> Uri {
    uri.headers.clear();
    uri.params
        .retain(|p| !p.name.eq_ignore_ascii_case("method"));
    uri
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn request(text: &str) -> Request {
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    fn response(text: &str) -> Response {
        match Message::parse(text.as_bytes()) {
            Ok(Message::Response(r)) => r,
            other => panic!("not a response: {other:?}"),
        }
    }

    const INVITE: &str = "INVITE sip:bob@example.test SIP/2.0\r\n\
        Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1\r\n\
        Max-Forwards: 70\r\n\
        From: \"Alice\" <sip:alice@example.test>;tag=a1\r\n\
        To: <sip:bob@example.test>\r\n\
        Call-ID: c1@x\r\nCSeq: 5 INVITE\r\n\
        Contact: <sip:alice@192.0.2.1:5061;transport=tls>\r\n\
        Record-Route: <sip:p2.example.test;lr>\r\n\
        Record-Route: <sip:p1.example.test;lr>\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn uac_dialog_reverses_record_route_and_targets_contact() {
        let invite = request(INVITE);
        let ok = response(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1\r\n\
             From: \"Alice\" <sip:alice@example.test>;tag=a1\r\n\
             To: <sip:bob@example.test>;tag=b9\r\nCall-ID: c1@x\r\nCSeq: 5 INVITE\r\n\
             Contact: <sip:bob@192.0.2.9:5071;transport=tls>\r\n\
             Record-Route: <sip:p2.example.test;lr>\r\n\
             Record-Route: <sip:p1.example.test;lr>\r\nContent-Length: 0\r\n\r\n",
        );
        let mut dialog = Dialog::for_uac(&invite, &ok).unwrap();
        assert_eq!(dialog.id.remote_tag, "b9");
        assert_eq!(dialog.id.local_tag, "a1");
        assert_eq!(dialog.next_hop().to_string(), "sip:p1.example.test;lr");
        let seq = dialog.next_seq();
        assert_eq!(seq, 6);
        let bye = dialog.request(Method::Bye, seq);
        assert_eq!(bye.uri.to_string(), "sip:bob@192.0.2.9:5071;transport=tls");
        let routes: Vec<&str> = bye.headers.get_all(&HeaderName::Route).collect();
        assert_eq!(
            routes,
            ["<sip:p1.example.test;lr>", "<sip:p2.example.test;lr>"]
        );
        assert_eq!(bye.headers.get(&HeaderName::CSeq), Some("6 BYE"));
        let to = bye.headers.to_header().unwrap();
        assert_eq!(to.tag(), Some("b9"));
    }

    #[test]
    fn uas_dialog_keeps_record_route_order_and_checks_remote_seq() {
        let invite = request(INVITE);
        let mut dialog = Dialog::for_uas(&invite, "b2".to_owned()).unwrap();
        assert_eq!(dialog.next_hop().to_string(), "sip:p2.example.test;lr");
        assert!(!dialog.accept_remote_seq(4));
        assert!(dialog.accept_remote_seq(6));
        let bye = dialog.request(Method::Bye, dialog.local_seq + 1);
        let from = bye.headers.from_header().unwrap();
        assert_eq!(from.tag(), Some("b2"));
        assert_eq!(from.uri.to_string(), "sip:bob@example.test");
    }

    #[test]
    fn strict_route_becomes_the_request_uri() {
        let invite = request(&INVITE.replace(
            "Record-Route: <sip:p2.example.test;lr>\r\nRecord-Route: <sip:p1.example.test;lr>\r\n",
            "Record-Route: <sip:strict.example.test>\r\n",
        ));
        let dialog = Dialog::for_uas(&invite, "b2".to_owned()).unwrap();
        let bye = dialog.request(Method::Bye, 1);
        assert_eq!(bye.uri.to_string(), "sip:strict.example.test");
        assert_eq!(
            bye.headers.get(&HeaderName::Route),
            Some("<sip:alice@192.0.2.1:5061;transport=tls>")
        );
    }

    #[test]
    fn missing_tag_or_contact_is_an_error_not_a_panic() {
        let invite = request(&INVITE.replace(";tag=a1", ""));
        assert_eq!(
            Dialog::for_uas(&invite, "b".into()).unwrap_err(),
            DialogError::NoTag("From")
        );
        let invite =
            request(&INVITE.replace("Contact: <sip:alice@192.0.2.1:5061;transport=tls>\r\n", ""));
        assert_eq!(
            Dialog::for_uas(&invite, "b".into()).unwrap_err(),
            DialogError::NoContact
        );
    }
}
