//! What a registration is configured with.

use std::time::Duration;

use crate::message::{Transport, Uri};

/// What a registration is configured with. Start from [`RegistrationConfig::new`] and set the
/// optional fields.
#[derive(Debug, Clone)]
pub struct RegistrationConfig {
    /// The Request-URI: the registrar's domain (`sip:example.test`).
    pub registrar: Uri,
    /// The address of record, put in From and To.
    pub aor: Uri,
    /// Our contact address.
    pub contact: Uri,
    /// The transport named in `Via`.
    pub transport: Transport,
    /// The `Via` sent-by (`host[:port]`); defaults to the contact's host and port.
    pub via_sent_by: Option<String>,
    /// The lifetime asked for (seconds; 3600 by default, RFC 3261 §10.2.1.1). The registrar
    /// may grant less, which is then used, or ask for more with 423 Min-Expires.
    pub expires: u32,
    /// The display name in `From`.
    pub display_name: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// An RFC 5626 instance ID (`urn:uuid:…`) put in `+sip.instance` on the contact.
    pub instance_id: Option<String>,
    /// An RFC 5626 `reg-id` for the contact (only sent together with `instance_id`); asks the
    /// registrar for SIP outbound with `Supported: outbound`.
    pub reg_id: Option<u32>,
    /// The latest a refresh is sent before the binding runs out (30 s by default); see
    /// [`refresh_delay`](super::refresh_delay).
    pub refresh_margin: Duration,
}

impl RegistrationConfig {
    /// A configuration asking for 3600 s, the RFC 3261 default, refreshing at the latest
    /// 30 s before the binding runs out.
    pub fn new(registrar: Uri, aor: Uri, contact: Uri, transport: Transport) -> RegistrationConfig {
        RegistrationConfig {
            registrar,
            aor,
            contact,
            transport,
            via_sent_by: None,
            expires: 3600,
            display_name: None,
            user_agent: None,
            instance_id: None,
            reg_id: None,
            refresh_margin: Duration::from_secs(30),
        }
    }
}
