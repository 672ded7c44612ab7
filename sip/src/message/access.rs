//! Typed accessors over [`Headers`] (`top_via`, `cseq`, `from_header`, …), shared by
//! [`Request`] and [`Response`], and the constructors that build one message from another.

use super::error::header_error;
use super::lex::{is_lws, split_top_level};
use super::{
    CSeq, HeaderName, Headers, Message, Method, NameAddr, ParseError, Request, Response,
    StatusCode, Uri, Via,
};

/// The values of every `name` header, split at top-level commas, trimmed, empty ones skipped.
fn list_values<'a>(
    headers: &'a Headers,
    name: &'a HeaderName,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(name)
        .flat_map(|value| split_top_level(value, b','))
        .map(|value| value.trim_matches(is_lws))
        .filter(|value| !value.is_empty())
}

/// Every name-addr in the `name` headers, in order.
fn name_addrs(
    headers: &Headers,
    name: HeaderName,
    label: &'static str,
) -> Result<Vec<NameAddr>, ParseError> {
    list_values(headers, &name)
        .map(|value| value.parse::<NameAddr>().map_err(|e| e.in_header(label)))
        .collect()
}

/// The single name-addr of a `From`/`To` header.
fn single_name_addr(
    headers: &Headers,
    name: HeaderName,
    label: &'static str,
) -> Result<NameAddr, ParseError> {
    let value = headers.get(&name).ok_or(ParseError::MissingHeader(label))?;
    value.parse::<NameAddr>().map_err(|e| e.in_header(label))
}

impl Headers {
    /// The topmost `Via` value (the first of a comma-separated list).
    pub fn top_via(&self) -> Result<Via, ParseError> {
        let value = list_values(self, &HeaderName::Via)
            .next()
            .ok_or(ParseError::MissingHeader("Via"))?;
        value.parse()
    }

    /// Replaces the topmost `Via` value (the first of a comma-separated list) with `top`,
    /// leaving every other `Via` as received; adds `top` as the first field when there is no
    /// `Via`.
    pub fn set_top_via(&mut self, top: &Via) {
        for header in self.iter_mut().filter(|h| h.name == HeaderName::Via) {
            let mut values = split_top_level(&header.value, b',')
                .map(|value| value.trim_matches(is_lws))
                .filter(|value| !value.is_empty());
            if values.next().is_none() {
                continue;
            }
            let below: Vec<&str> = values.collect();
            header.value = if below.is_empty() {
                top.to_string()
            } else {
                format!("{top}, {}", below.join(", "))
            };
            return;
        }
        self.push_front(HeaderName::Via, top.to_string());
    }

    /// Every `Via` value, top first, across all `Via` headers and comma-separated lists.
    pub fn vias(&self) -> Result<Vec<Via>, ParseError> {
        let vias = list_values(self, &HeaderName::Via)
            .map(str::parse)
            .collect::<Result<Vec<Via>, _>>()?;
        if vias.is_empty() {
            return Err(ParseError::MissingHeader("Via"));
        }
        Ok(vias)
    }

    /// The `CSeq` value.
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        self.get(&HeaderName::CSeq)
            .ok_or(ParseError::MissingHeader("CSeq"))?
            .parse()
    }

    /// The `Call-ID` value (non-empty, without white space).
    pub fn call_id(&self) -> Result<&str, ParseError> {
        let value = self
            .get(&HeaderName::CallId)
            .ok_or(ParseError::MissingHeader("Call-ID"))?;
        if value.is_empty() || value.contains(is_lws) {
            return Err(header_error("Call-ID", "empty or contains white space"));
        }
        Ok(value)
    }

    /// The `From` value.
    pub fn from_header(&self) -> Result<NameAddr, ParseError> {
        single_name_addr(self, HeaderName::From, "From")
    }

    /// The `To` value.
    pub fn to_header(&self) -> Result<NameAddr, ParseError> {
        single_name_addr(self, HeaderName::To, "To")
    }

    /// Every `Contact` value, in order. `Contact: *` (un-REGISTER all) gives an empty list: ask
    /// [`Headers::is_contact_wildcard`].
    pub fn contacts(&self) -> Result<Vec<NameAddr>, ParseError> {
        if self.is_contact_wildcard() {
            return Ok(Vec::new());
        }
        name_addrs(self, HeaderName::Contact, "Contact")
    }

    /// Whether the message carries `Contact: *`.
    pub fn is_contact_wildcard(&self) -> bool {
        list_values(self, &HeaderName::Contact).any(|value| value == "*")
    }

    /// Every `Record-Route` value, in order.
    pub fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        name_addrs(self, HeaderName::RecordRoute, "Record-Route")
    }

    /// Every `Route` value, in order.
    pub fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        name_addrs(self, HeaderName::Route, "Route")
    }

    /// The `Expires` value in seconds (values beyond 2^32 − 1 are read as 2^32 − 1, as RFC 3261
    /// §20.19 allows); `None` if absent or not a number.
    pub fn expires(&self) -> Option<u32> {
        let value = self.get(&HeaderName::Expires)?;
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(value.parse::<u32>().unwrap_or(u32::MAX))
    }

    /// The `Content-Type` value as written (`application/sdp`).
    pub fn content_type(&self) -> Option<&str> {
        self.get(&HeaderName::ContentType)
    }

    /// The headers a response copies from its request (RFC 3261 §8.2.6.2): every `Via` in order,
    /// `From`, `To`, `Call-ID` and `CSeq`.
    pub(crate) fn for_response(&self) -> Headers {
        self.iter()
            .filter(|h| {
                matches!(
                    h.name,
                    HeaderName::Via
                        | HeaderName::From
                        | HeaderName::To
                        | HeaderName::CallId
                        | HeaderName::CSeq
                )
            })
            .cloned()
            .collect()
    }
}

/// Gives `Request` and `Response` the same typed accessors, delegating to [`Headers`].
macro_rules! header_accessors {
    ($message:ident) => {
        impl $message {
            /// The topmost `Via` value.
            pub fn top_via(&self) -> Result<Via, ParseError> {
                self.headers.top_via()
            }

            /// Every `Via` value, top first (comma-separated lists are split).
            pub fn vias(&self) -> Result<Vec<Via>, ParseError> {
                self.headers.vias()
            }

            /// The `CSeq` value.
            pub fn cseq(&self) -> Result<CSeq, ParseError> {
                self.headers.cseq()
            }

            /// The `Call-ID` value.
            pub fn call_id(&self) -> Result<&str, ParseError> {
                self.headers.call_id()
            }

            /// The `From` value.
            pub fn from_header(&self) -> Result<NameAddr, ParseError> {
                self.headers.from_header()
            }

            /// The `To` value.
            pub fn to_header(&self) -> Result<NameAddr, ParseError> {
                self.headers.to_header()
            }

            /// Every `Contact` value (empty for `Contact: *`, see `is_contact_wildcard`).
            pub fn contacts(&self) -> Result<Vec<NameAddr>, ParseError> {
                self.headers.contacts()
            }

            /// Whether the message carries `Contact: *`.
            pub fn is_contact_wildcard(&self) -> bool {
                self.headers.is_contact_wildcard()
            }

            /// Every `Record-Route` value, in order.
            pub fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
                self.headers.record_routes()
            }

            /// Every `Route` value, in order.
            pub fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
                self.headers.routes()
            }

            /// The `Expires` value in seconds, if present and a number.
            pub fn expires(&self) -> Option<u32> {
                self.headers.expires()
            }

            /// The `Content-Type` value as written.
            pub fn content_type(&self) -> Option<&str> {
                self.headers.content_type()
            }
        }
    };
}

header_accessors!(Request);
header_accessors!(Response);

impl Request {
    /// A request with no headers and an empty body; add `Via`, `From`, `To`, `Call-ID`, `CSeq`
    /// and `Max-Forwards` before sending.
    pub fn new(method: Method, uri: Uri) -> Request {
        Request {
            method,
            uri,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }
}

impl Response {
    /// A response with no headers and an empty body. `reason` defaults to the usual phrase.
    pub fn new(status: StatusCode, reason: Option<&str>) -> Response {
        let reason = match reason {
            Some(reason) => reason.to_owned(),
            None => default_reason(status).to_owned(),
        };
        Response {
            status,
            reason,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// The response to `req` per RFC 3261 §8.2.6: copies every `Via` (in order), `From`, `To`,
    /// `Call-ID` and `CSeq`, and `Timestamp` on a `100 Trying`. The caller adds the To-tag (for
    /// anything but `100`) and any other header.
    pub fn for_request(req: &Request, status: StatusCode, reason: Option<&str>) -> Response {
        let mut response = Response::new(status, reason);
        response.headers = req.headers.for_response();
        if status == StatusCode::TRYING
            && let Some(timestamp) = req.headers.get(&HeaderName::Timestamp)
        {
            response.headers.push(HeaderName::Timestamp, timestamp);
        }
        response
    }
}

/// The usual reason phrase, or a generic one for codes without a well-known phrase.
fn default_reason(status: StatusCode) -> &'static str {
    match status.default_reason() {
        "" => match status.0 / 100 {
            1 => "Provisional",
            2 => "Success",
            3 => "Redirection",
            4 => "Request Failure",
            5 => "Server Failure",
            _ => "Global Failure",
        },
        reason => reason,
    }
}

impl Message {
    /// The header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(req) => &req.headers,
            Message::Response(resp) => &resp.headers,
        }
    }

    /// The header fields, for changing.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Message::Request(req) => &mut req.headers,
            Message::Response(resp) => &mut resp.headers,
        }
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(req) => &req.body,
            Message::Response(resp) => &resp.body,
        }
    }
}

impl From<Request> for Message {
    fn from(req: Request) -> Message {
        Message::Request(req)
    }
}

impl From<Response> for Message {
    fn from(resp: Response) -> Message {
        Message::Response(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Host, Scheme, Transport};

    fn invite() -> Request {
        let mut req = Request::new(
            Method::Invite,
            Uri::new(Scheme::Sips, Host::Domain("bob.example.test".into())),
        );
        let h = &mut req.headers;
        h.push(
            HeaderName::Via,
            "SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKa, SIP/2.0/UDP p.test;branch=z9hG4bKb",
        );
        h.push(HeaderName::Via, "SIP/2.0/TCP q.test;branch=z9hG4bKc");
        h.push(HeaderName::MaxForwards, "70");
        h.push(
            HeaderName::From,
            "\"Alice, A.\" <sips:alice@example.test>;tag=1928",
        );
        h.push(HeaderName::To, "<sips:bob@example.test>");
        h.push(HeaderName::CallId, "a84b4c76e66710@pc33");
        h.push(HeaderName::CSeq, "314159 INVITE");
        h.push(
            HeaderName::Contact,
            "<sips:alice@[2001:db8::9]:5061;transport=tls>;expires=60, \"x,y\" <sip:b@h>",
        );
        h.push(HeaderName::Route, "<sip:p1.test;lr>, <sip:p2.test;lr>");
        h.push(HeaderName::Route, "<sip:p3.test;lr>");
        h.push(HeaderName::RecordRoute, "<sip:rr.test;lr>");
        h.push(HeaderName::Expires, "7200");
        h.push(HeaderName::ContentType, "application/sdp");
        h.push(HeaderName::Timestamp, "54");
        req
    }

    #[test]
    fn set_top_via_replaces_only_the_top_value() {
        let mut req = invite();
        let mut top = req.top_via().unwrap();
        top.params
            .push(crate::message::Param::new("received", "192.0.2.1"));
        req.headers.set_top_via(&top);
        let values: Vec<&str> = req.headers.get_all(&HeaderName::Via).collect();
        assert_eq!(
            values,
            [
                "SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKa;received=192.0.2.1, SIP/2.0/UDP p.test;branch=z9hG4bKb",
                "SIP/2.0/TCP q.test;branch=z9hG4bKc",
            ]
        );
        assert_eq!(req.headers.iter().next().unwrap().name, HeaderName::Via);

        let mut bare = Request::new(
            Method::Options,
            Uri::new(Scheme::Sip, Host::Domain("h".into())),
        );
        bare.headers.push(HeaderName::CallId, "c");
        bare.headers.set_top_via(&top);
        assert_eq!(bare.top_via().unwrap(), top);
        assert_eq!(bare.headers.iter().next().unwrap().name, HeaderName::Via);
    }

    #[test]
    fn accessors() {
        let req = invite();
        let top = req.top_via().unwrap();
        assert_eq!(top.transport, Transport::Tls);
        assert_eq!(top.host, Host::Ipv6("2001:db8::9".parse().unwrap()));
        let branches: Vec<String> = req
            .vias()
            .unwrap()
            .iter()
            .map(|v| v.branch().unwrap().to_owned())
            .collect();
        assert_eq!(branches, ["z9hG4bKa", "z9hG4bKb", "z9hG4bKc"]);
        assert_eq!(
            req.cseq().unwrap(),
            CSeq {
                seq: 314159,
                method: Method::Invite
            }
        );
        assert_eq!(req.call_id().unwrap(), "a84b4c76e66710@pc33");
        let from = req.from_header().unwrap();
        assert_eq!(from.display_name.as_deref(), Some("Alice, A."));
        assert_eq!(from.tag(), Some("1928"));
        assert_eq!(req.to_header().unwrap().tag(), None);
        let contacts = req.contacts().unwrap();
        assert_eq!(contacts.len(), 2);
        assert_eq!(contacts[0].param("expires"), Some(Some("60")));
        assert_eq!(contacts[1].display_name.as_deref(), Some("x,y"));
        assert!(!req.is_contact_wildcard());
        assert_eq!(req.routes().unwrap().len(), 3);
        assert_eq!(req.record_routes().unwrap().len(), 1);
        assert_eq!(req.expires(), Some(7200));
        assert_eq!(req.content_type(), Some("application/sdp"));
    }

    #[test]
    fn missing_and_bad_headers() {
        let req = Request::new(
            Method::Options,
            Uri::new(Scheme::Sip, Host::Domain("h".into())),
        );
        assert_eq!(req.top_via(), Err(ParseError::MissingHeader("Via")));
        assert_eq!(req.vias(), Err(ParseError::MissingHeader("Via")));
        assert_eq!(req.cseq(), Err(ParseError::MissingHeader("CSeq")));
        assert_eq!(req.call_id(), Err(ParseError::MissingHeader("Call-ID")));
        assert_eq!(req.from_header(), Err(ParseError::MissingHeader("From")));
        assert_eq!(req.to_header(), Err(ParseError::MissingHeader("To")));
        assert_eq!(req.contacts(), Ok(Vec::new()));
        assert_eq!(req.expires(), None);

        let mut resp = Response::new(StatusCode::OK, None);
        resp.headers.push(HeaderName::To, "<tel:+1555>");
        resp.headers.push(HeaderName::Contact, "<sip:ok@h>, <bad");
        resp.headers.push(HeaderName::Expires, "99999999999");
        resp.headers.push(HeaderName::CallId, "has space");
        assert_eq!(
            resp.to_header().unwrap_err().to_string(),
            "To: unsupported URI scheme `tel`"
        );
        assert_eq!(
            resp.contacts().unwrap_err().to_string(),
            "Contact: missing `>`"
        );
        assert_eq!(resp.expires(), Some(u32::MAX));
        assert!(resp.call_id().is_err());
    }

    #[test]
    fn wildcard_contact() {
        let mut req = invite();
        req.headers.set(HeaderName::Contact, "*");
        assert!(req.is_contact_wildcard());
        assert_eq!(req.contacts(), Ok(Vec::new()));
    }

    #[test]
    fn response_for_request_copies_rfc3261_headers() {
        let req = invite();
        let resp = Response::for_request(&req, StatusCode::RINGING, None);
        assert_eq!(resp.reason, "Ringing");
        let names: Vec<&str> = resp.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["Via", "Via", "From", "To", "Call-ID", "CSeq"]);
        assert_eq!(resp.vias().unwrap(), req.vias().unwrap());
        assert_eq!(resp.from_header().unwrap(), req.from_header().unwrap());
        assert_eq!(resp.cseq().unwrap(), req.cseq().unwrap());
        assert!(resp.body.is_empty());

        let trying = Response::for_request(&req, StatusCode::TRYING, Some("Trying hard"));
        assert_eq!(trying.reason, "Trying hard");
        assert_eq!(trying.headers.get(&HeaderName::Timestamp), Some("54"));
        assert_eq!(
            Response::new(StatusCode(599), None).reason,
            "Server Failure"
        );
        assert_eq!(
            Response::new(StatusCode(699), None).reason,
            "Global Failure"
        );
    }

    #[test]
    fn message_headers() {
        let mut msg = Message::from(invite());
        msg.headers_mut().push(HeaderName::Subject, "hi");
        assert_eq!(msg.headers().get(&HeaderName::Subject), Some("hi"));
        assert!(msg.body().is_empty());
    }
}
