//! Header names (with RFC 3261 compact forms) and the ordered header list.

use std::fmt;

macro_rules! header_names {
    ($( $(#[$doc:meta])* $variant:ident => $canonical:literal $(, compact $compact:literal)? ;)*) => {
        /// A header field name. Known names are matched case-insensitively and in their
        /// compact forms (`v` = `Via`, `i` = `Call-ID`, …); others are kept as written.
        #[derive(Debug, Clone)]
        pub enum HeaderName {
            $( $(#[$doc])* $variant, )*
            /// Any other header, with the name as it was written.
            Other(String),
        }

        impl HeaderName {
            /// The canonical spelling of the name.
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$variant => $canonical, )*
                    HeaderName::Other(s) => s,
                }
            }

            /// Maps a name as written on the wire (any case, long or compact form).
            pub fn from_wire(name: &str) -> HeaderName {
                $(
                    if name.eq_ignore_ascii_case($canonical) $( || name.eq_ignore_ascii_case($compact) )? {
                        return HeaderName::$variant;
                    }
                )*
                HeaderName::Other(name.to_owned())
            }
        }
    };
}

header_names! {
    /// `Via` (compact `v`).
    Via => "Via", compact "v";
    /// `From` (compact `f`).
    From => "From", compact "f";
    /// `To` (compact `t`).
    To => "To", compact "t";
    /// `Call-ID` (compact `i`).
    CallId => "Call-ID", compact "i";
    /// `CSeq`.
    CSeq => "CSeq";
    /// `Contact` (compact `m`).
    Contact => "Contact", compact "m";
    /// `Content-Length` (compact `l`).
    ContentLength => "Content-Length", compact "l";
    /// `Content-Type` (compact `c`).
    ContentType => "Content-Type", compact "c";
    /// `Content-Encoding` (compact `e`).
    ContentEncoding => "Content-Encoding", compact "e";
    /// `Max-Forwards`.
    MaxForwards => "Max-Forwards";
    /// `Expires`.
    Expires => "Expires";
    /// `Min-Expires`.
    MinExpires => "Min-Expires";
    /// `Route`.
    Route => "Route";
    /// `Record-Route`.
    RecordRoute => "Record-Route";
    /// `Authorization`.
    Authorization => "Authorization";
    /// `Proxy-Authorization`.
    ProxyAuthorization => "Proxy-Authorization";
    /// `WWW-Authenticate`.
    WwwAuthenticate => "WWW-Authenticate";
    /// `Proxy-Authenticate`.
    ProxyAuthenticate => "Proxy-Authenticate";
    /// `Authentication-Info`.
    AuthenticationInfo => "Authentication-Info";
    /// `Allow`.
    Allow => "Allow";
    /// `Supported` (compact `k`).
    Supported => "Supported", compact "k";
    /// `Require`.
    Require => "Require";
    /// `Unsupported`.
    Unsupported => "Unsupported";
    /// `User-Agent`.
    UserAgent => "User-Agent";
    /// `Server`.
    Server => "Server";
    /// `Subject` (compact `s`).
    Subject => "Subject", compact "s";
    /// `Event` (compact `o`).
    Event => "Event", compact "o";
    /// `Refer-To` (compact `r`).
    ReferTo => "Refer-To", compact "r";
    /// `Referred-By` (compact `b`).
    ReferredBy => "Referred-By", compact "b";
    /// `Subscription-State` (RFC 6665).
    SubscriptionState => "Subscription-State";
    /// `Session-Expires` (compact `x`).
    SessionExpires => "Session-Expires", compact "x";
    /// `Min-SE`.
    MinSe => "Min-SE";
    /// `Allow-Events` (compact `u`).
    AllowEvents => "Allow-Events", compact "u";
    /// `Accept`.
    Accept => "Accept";
    /// `Call-Info`.
    CallInfo => "Call-Info";
    /// `Reason`.
    Reason => "Reason";
    /// `Retry-After`.
    RetryAfter => "Retry-After";
    /// `Timestamp`.
    Timestamp => "Timestamp";
    /// `Warning`.
    Warning => "Warning";
    /// `Identity` (compact `y`).
    Identity => "Identity", compact "y";
    /// `Security-Client`.
    SecurityClient => "Security-Client";
    /// `Security-Server`.
    SecurityServer => "Security-Server";
    /// `Security-Verify`.
    SecurityVerify => "Security-Verify";
    /// `Flow-Timer`.
    FlowTimer => "Flow-Timer";
    /// `Path`.
    Path => "Path";
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &HeaderName) -> bool {
        match (self, other) {
            (HeaderName::Other(_), _) | (_, HeaderName::Other(_)) => {
                self.as_str().eq_ignore_ascii_case(other.as_str())
            }
            // Known names have distinct canonical spellings: same variant, same name.
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for HeaderName {}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field: a name and its (unfolded, trimmed) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name.
    pub name: HeaderName,
    /// The field value, with folding already undone.
    pub value: String,
}

/// The header fields of a message, in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// An empty header list.
    pub fn new() -> Headers {
        Headers(Vec::new())
    }

    /// Appends a field.
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.push(Header {
            name,
            value: value.into(),
        });
    }

    /// Inserts a field before all others (e.g. a new top `Via`).
    pub fn push_front(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.insert(
            0,
            Header {
                name,
                value: value.into(),
            },
        );
    }

    /// Replaces every field called `name` with one field holding `value`, keeping the position
    /// of the first one (or appending).
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter().position(|h| h.name == name) {
            Some(pos) => {
                self.0[pos].value = value;
                let mut index = 0;
                self.0.retain(|h| {
                    let keep = index <= pos || h.name != name;
                    index += 1;
                    keep
                });
            }
            None => self.push(name, value),
        }
    }

    /// Removes every field called `name`.
    pub fn remove(&mut self, name: &HeaderName) {
        self.0.retain(|h| &h.name != name);
    }

    /// The value of the first field called `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.0
            .iter()
            .find(|h| &h.name == name)
            .map(|h| h.value.as_str())
    }

    /// The values of every field called `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |h| &h.name == name)
            .map(|h| h.value.as_str())
    }

    /// Whether a field called `name` is present.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.0.iter().any(|h| &h.name == name)
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    /// All fields in order, to edit values in place.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Header> {
        self.0.iter_mut()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<I: IntoIterator<Item = Header>>(iter: I) -> Headers {
        Headers(iter.into_iter().collect())
    }
}
