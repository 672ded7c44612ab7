//! The CAPF client as a sans-IO state machine: bytes from the server go in
//! ([`Client::handle_bytes`]), and what to send, what to do and what happened come out of
//! [`Client::poll_output`] in order. Slow or stateful work (generating the key, storing,
//! fetching or deleting the LSC) is asked of the driver as an [`Action`], whose result comes
//! back through [`Client::key_generated`], [`Client::certificate_stored`],
//! [`Client::certificate_fetched`] and [`Client::certificate_deleted`]. The client never reads
//! the clock: the time the issued certificate must be valid at is passed in.

use std::collections::VecDeque;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::check::{CertificateInfo, check_issued};
use super::keys::{self, DeviceKey, KeyError, KeyKind, RsaSignatureForm, SignatureHash};
use super::message::{
    self, MessageError, Reason, ServerMessage, SudiData, certificate_type, command, hash_id, tag,
};
use super::wire::{Element, Frame, FrameDecoder, WireError};

/// The one-time authentication string an administrator gives the user. Never printed.
#[derive(Clone)]
pub struct AuthString(Zeroizing<String>);

impl AuthString {
    /// Wraps the string (surrounding white space removed).
    pub fn new(text: impl Into<String>) -> AuthString {
        let text: String = text.into();
        AuthString(Zeroizing::new(text.trim().to_owned()))
    }

    /// The string, for the wire only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AuthString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthString(<redacted>)")
    }
}

/// A certificate with its private key, used to authenticate (existing-certificate mode).
#[derive(Debug)]
pub struct AuthIdentity {
    /// The DER certificate (the LSC, or a manufacturer certificate).
    pub certificate: Vec<u8>,
    /// Its private key.
    pub key: DeviceKey,
}

/// How the device proves itself (the server's configuration decides which one it checks).
#[derive(Debug)]
pub enum Credentials {
    /// An authentication string ("password" mode).
    AuthString(AuthString),
    /// No credentials ("null string" mode).
    None,
    /// An existing certificate: the stored LSC (renewal) or a manufacturer certificate,
    /// optionally with SUDI data signed by a manufacturer identity.
    Certificate {
        /// The certificate whose key signs M1.
        identity: AuthIdentity,
        /// The SUDI identity (RSA) that signs M2, if any.
        sudi: Option<AuthIdentity>,
    },
}

impl Credentials {
    /// "auth-string", "none" or "existing-certificate".
    pub fn mode(&self) -> &'static str {
        match self {
            Credentials::AuthString(_) => "auth-string",
            Credentials::None => "none",
            Credentials::Certificate { .. } => "existing-certificate",
        }
    }
}

/// Which VERSION the client sends (reference §7: CUCM accepted 2 from Jabber; phones send 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionPolicy {
    /// Echo the server's VERSION (3 when it sent none). The default.
    #[default]
    Echo,
    /// Always send this value.
    Fixed(u8),
}

/// How the null-string mode is sent (reference §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullPassword {
    /// No PASSWORD element, as Jabber does (default).
    #[default]
    Omit,
    /// An empty PASSWORD (the single byte `00`), as capfc does.
    Empty,
}

/// Tunables for the points the reference marks uncertain, with its recommended defaults.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The device name (e.g. `SEP0A0B0C0D0E0F` or `CSFALICE`).
    pub device_name: String,
    /// VERSION to send.
    pub version: VersionPolicy,
    /// Null-string encoding.
    pub null_password: NullPassword,
    /// RSA certificate-mode signature padding.
    pub rsa_signature: RsaSignatureForm,
    /// Send one REQUEST_IN_PROGRESS before generating the key (phones and capfc do; capfd
    /// accepts zero or one). Default true.
    pub request_in_progress: bool,
    /// Smallest RSA key accepted (never below 2048).
    pub min_rsa_bits: u16,
    /// The certificate type written in the wrapper of an authenticating certificate
    /// (capfc writes 1 even for a manufacturer certificate).
    pub auth_certificate_type: u8,
}

impl ClientOptions {
    /// The defaults for a device.
    pub fn new(device_name: impl Into<String>) -> ClientOptions {
        ClientOptions {
            device_name: device_name.into(),
            version: VersionPolicy::Echo,
            null_password: NullPassword::Omit,
            rsa_signature: RsaSignatureForm::Unprefixed,
            request_in_progress: true,
            min_rsa_bits: keys::MIN_RSA_BITS,
            auth_certificate_type: certificate_type::LSC,
        }
    }
}

/// Something the driver must do, then report back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Generate a key pair of this kind, then call [`Client::key_generated`].
    GenerateKey(KeyKind),
    /// Store this checked certificate with the key from [`Client::take_new_key`], then call
    /// [`Client::certificate_stored`].
    StoreCertificate {
        /// The DER certificate.
        certificate: Vec<u8>,
    },
    /// Read the stored LSC, then call [`Client::certificate_fetched`].
    FetchCertificate,
    /// Delete the stored LSC and its key, then call [`Client::certificate_deleted`].
    DeleteCertificate,
}

/// A step of the session, for progress lines and JSON events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Progress {
    /// The server opened the session.
    SessionOpened {
        /// The session ID.
        session_id: u32,
        /// The server's VERSION.
        version: Option<u8>,
        /// The server's AUTH_TYPE, when sent.
        auth_type: Option<u8>,
    },
    /// We sent our credentials.
    Authenticating {
        /// The device name.
        device: String,
        /// The mode.
        mode: &'static str,
        /// The VERSION we sent.
        version: u8,
    },
    /// The server asked for a key.
    KeyRequested {
        /// What it asked for.
        key: String,
    },
    /// We refused the key request.
    KeyRefused {
        /// Why.
        reason: String,
    },
    /// We sent our public key.
    PublicKeySent {
        /// The key kind.
        key: String,
    },
    /// The server delivered a certificate that passed our checks.
    CertificateReceived(CertificateInfo),
    /// The server asked for our LSC.
    FetchRequested,
    /// The server asked us to delete our LSC.
    DeleteRequested,
    /// The server ended the session.
    SessionEnded {
        /// The REASON code.
        reason: u8,
    },
}

/// One output of the client, in the order it must be handled.
#[derive(Debug)]
pub enum Output {
    /// Bytes to send (one write).
    Transmit(Vec<u8>),
    /// Work for the driver.
    Action(Action),
    /// Progress to report.
    Progress(Progress),
}

/// How a session ended well.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// A new LSC was issued, checked and stored.
    Installed(CertificateInfo),
    /// The server fetched our LSC (`sent` false if we had none).
    Fetched {
        /// Whether we had one to send.
        sent: bool,
    },
    /// The server had us delete our LSC (`existed` false if there was none).
    Deleted {
        /// Whether there was one.
        existed: bool,
    },
}

/// Why a session failed. Every END_SESSION reason maps to a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The bytes are not CAPF.
    #[error("malformed CAPF message from the server: {0}")]
    Wire(#[from] WireError),
    /// A message is malformed or unexpected.
    #[error("invalid CAPF message from the server: {0}")]
    Message(#[from] MessageError),
    /// A message in the wrong place.
    #[error("the CAPF server sent {got} while {state}")]
    OutOfOrder {
        /// The command's name.
        got: &'static str,
        /// What we were waiting for.
        state: &'static str,
    },
    /// The session ID changed mid-session.
    #[error("the CAPF server changed the session ID from {expected} to {got}")]
    SessionMismatch {
        /// The first one.
        expected: u32,
        /// The new one.
        got: u32,
    },
    /// Reason 0 right after authentication.
    #[error(
        "the CAPF server has no operation scheduled for device `{device}` (reason 0): it may already be enrolled, or the administrator has not scheduled an install yet"
    )]
    NothingScheduled {
        /// The device name.
        device: String,
    },
    /// Reason 9.
    #[error(
        "the CAPF server does not know device `{device}` (reason 9): check the device name with the administrator"
    )]
    UnknownDevice {
        /// The device name.
        device: String,
    },
    /// Reason 7 in answer to our credentials.
    #[error("the CAPF server refused device `{device}` (reason 7): {hint}")]
    AuthenticationRefused {
        /// The device name.
        device: String,
        /// The likely cause for the mode used.
        hint: &'static str,
    },
    /// We refused the key the server asked for.
    #[error("{0}")]
    KeyRefused(KeyError),
    /// The issued certificate failed our checks; it was not stored.
    #[error("refused the issued certificate, nothing was stored: {0}")]
    CertificateRejected(String),
    /// Storing (or fetching, deleting) failed locally.
    #[error("local certificate store: {0}")]
    Store(String),
    /// Any other failure reason from the server.
    #[error(
        "the CAPF server ended the session with reason {code} while {state}: the operation failed; the server's log says why"
    )]
    Failed {
        /// The reason code.
        code: u8,
        /// Where we were.
        state: &'static str,
    },
    /// The connection closed before END_SESSION.
    #[error("the CAPF server closed the connection while {state} (no END_SESSION)")]
    Closed {
        /// Where we were.
        state: &'static str,
    },
    /// Building our own message failed.
    #[error("cannot encode a CAPF message: {0}")]
    Encode(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitAuthRequest,
    AwaitOperation,
    GeneratingKey,
    AwaitStoreRequest,
    Storing,
    Fetching,
    Deleting,
    AwaitEnd(Pending),
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Installed,
    InstallFailed,
    KeyRefused,
    Fetched(bool),
    Deleted(bool),
}

impl State {
    fn describe(self) -> &'static str {
        match self {
            State::AwaitAuthRequest => "waiting for AUTH_REQUEST",
            State::AwaitOperation => "waiting for the server's answer to our credentials",
            State::GeneratingKey => "generating the key",
            State::AwaitStoreRequest => "waiting for the issued certificate",
            State::Storing => "storing the certificate",
            State::Fetching => "reading our certificate for a fetch",
            State::Deleting => "deleting our certificate",
            State::AwaitEnd(_) => "waiting for END_SESSION",
            State::Done => "finished",
        }
    }
}

/// The CAPF client of one session.
#[derive(Debug)]
pub struct Client {
    options: ClientOptions,
    credentials: Credentials,
    decoder: FrameDecoder,
    session_id: Option<u32>,
    state: State,
    outputs: VecDeque<Output>,
    new_key: Option<DeviceKey>,
    issued: Option<(Vec<u8>, CertificateInfo)>,
    key_refusal: Option<KeyError>,
    rejection: Option<String>,
    result: Option<Result<Outcome, ClientError>>,
    /// The server closed; reported once buffered frames are handled.
    closed: bool,
    /// The time of the last `handle_bytes`, for frames handled after an action completes.
    now: SystemTime,
}

impl Client {
    /// A client that will authenticate with `credentials`.
    pub fn new(options: ClientOptions, credentials: Credentials) -> Client {
        Client {
            options,
            credentials,
            decoder: FrameDecoder::default(),
            session_id: None,
            state: State::AwaitAuthRequest,
            outputs: VecDeque::new(),
            new_key: None,
            issued: None,
            key_refusal: None,
            rejection: None,
            result: None,
            closed: false,
            now: SystemTime::UNIX_EPOCH,
        }
    }

    /// The next thing to send, do or report.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The session's result, once it is over (after END_SESSION, an error, or a close).
    pub fn result(&self) -> Option<&Result<Outcome, ClientError>> {
        self.result.as_ref()
    }

    /// Whether the session is over (the driver then closes the connection).
    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }

    /// The newly generated key, for storing with the certificate of
    /// [`Action::StoreCertificate`].
    pub fn take_new_key(&mut self) -> Option<DeviceKey> {
        self.new_key.take()
    }

    /// Feeds bytes read from the connection; `now` is the time the issued certificate must be
    /// valid at. Frames that arrive while an [`Action`] is outstanding wait for its result.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: SystemTime) {
        if self.is_done() {
            return;
        }
        self.now = now;
        self.decoder.push(bytes);
        self.process();
    }

    /// The server closed the connection.
    pub fn handle_close(&mut self) {
        self.closed = true;
        self.process();
    }

    fn awaiting_action(&self) -> bool {
        matches!(
            self.state,
            State::GeneratingKey | State::Storing | State::Fetching | State::Deleting
        )
    }

    /// Handles buffered frames until one needs an action's result, then a pending close.
    fn process(&mut self) {
        while !self.is_done() && !self.awaiting_action() {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => {
                    let now = self.now;
                    if let Err(e) = self.handle_frame(&frame, now) {
                        self.fail(e);
                    }
                }
                Ok(None) => break,
                Err(e) => self.fail(e.into()),
            }
        }
        if self.closed && !self.is_done() && !self.awaiting_action() {
            let state = self.state.describe();
            self.fail(ClientError::Closed { state });
        }
    }

    fn fail(&mut self, error: ClientError) {
        self.state = State::Done;
        self.result = Some(Err(error));
    }

    fn send(&mut self, command: u8, elements: Vec<Element>) -> Result<(), ClientError> {
        let frame = Frame::new(command, self.session_id.unwrap_or(0), elements);
        let bytes = frame
            .encode()
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        self.outputs.push_back(Output::Transmit(bytes));
        Ok(())
    }

    fn progress(&mut self, progress: Progress) {
        self.outputs.push_back(Output::Progress(progress));
    }

    fn out_of_order(&self, frame: &Frame) -> ClientError {
        ClientError::OutOfOrder {
            got: command::name(frame.command),
            state: self.state.describe(),
        }
    }

    fn handle_frame(&mut self, frame: &Frame, now: SystemTime) -> Result<(), ClientError> {
        match self.session_id {
            None => self.session_id = Some(frame.session_id),
            Some(expected) if expected != frame.session_id => {
                return Err(ClientError::SessionMismatch {
                    expected,
                    got: frame.session_id,
                });
            }
            Some(_) => {}
        }
        let message = ServerMessage::decode(frame)?;
        if let ServerMessage::EndSession(reason) = message {
            return self.handle_end(reason);
        }
        match (self.state, message) {
            (State::AwaitAuthRequest, ServerMessage::AuthRequest { version, auth_type }) => {
                self.progress(Progress::SessionOpened {
                    session_id: frame.session_id,
                    version,
                    auth_type,
                });
                self.send_auth_response(version)
            }
            (State::AwaitOperation, ServerMessage::KeyGenerateRequest(request)) => {
                self.progress(Progress::KeyRequested {
                    key: request.to_string(),
                });
                match keys::kind_for_request(request, self.options.min_rsa_bits) {
                    Ok(kind) => {
                        if self.options.request_in_progress {
                            self.send(command::REQUEST_IN_PROGRESS, Vec::new())?;
                        }
                        self.state = State::GeneratingKey;
                        self.outputs
                            .push_back(Output::Action(Action::GenerateKey(kind)));
                        Ok(())
                    }
                    Err(refusal) => self.refuse_key(refusal),
                }
            }
            (
                State::AwaitStoreRequest,
                ServerMessage::StoreCertificateRequest {
                    certificate_type,
                    certificate,
                },
            ) => self.handle_store_request(certificate_type, certificate, now),
            (State::AwaitOperation, ServerMessage::FetchCertificateRequest) => {
                self.progress(Progress::FetchRequested);
                self.state = State::Fetching;
                self.outputs
                    .push_back(Output::Action(Action::FetchCertificate));
                Ok(())
            }
            (State::AwaitOperation, ServerMessage::DeleteCertificateRequest) => {
                self.progress(Progress::DeleteRequested);
                self.state = State::Deleting;
                self.outputs
                    .push_back(Output::Action(Action::DeleteCertificate));
                Ok(())
            }
            _ => Err(self.out_of_order(frame)),
        }
    }

    fn refuse_key(&mut self, refusal: KeyError) -> Result<(), ClientError> {
        self.progress(Progress::KeyRefused {
            reason: refusal.to_string(),
        });
        // Refuse by omitting PUBLIC_KEY, with REASON 7 (reference §5.5 step 4).
        self.send(
            command::KEY_GENERATE_RESPONSE,
            vec![message::reason(Reason::InvalidElement)],
        )?;
        self.key_refusal = Some(refusal);
        self.state = State::AwaitEnd(Pending::KeyRefused);
        Ok(())
    }

    fn send_auth_response(&mut self, server_version: Option<u8>) -> Result<(), ClientError> {
        let version = match self.options.version {
            VersionPolicy::Echo => server_version.unwrap_or(3),
            VersionPolicy::Fixed(v) => v,
        };
        let device = self.options.device_name.clone();
        let mut elements = vec![
            Element::u8(tag::VERSION, version),
            Element::string(tag::DEVICE_NAME, &device),
            message::reason(Reason::UpdateCertificate),
        ];
        match &self.credentials {
            Credentials::AuthString(secret) => {
                elements.push(Element::string(tag::PASSWORD, secret.expose()));
            }
            Credentials::None => {
                if self.options.null_password == NullPassword::Empty {
                    elements.push(Element::string(tag::PASSWORD, ""));
                }
            }
            Credentials::Certificate { identity, sudi } => {
                let mut m1 = Element::string(tag::DEVICE_NAME, &device).value;
                m1.extend_from_slice(&identity.certificate);
                let form = self.options.rsa_signature;
                let sha1 = identity
                    .key
                    .sign(&m1, SignatureHash::Sha1, form)
                    .map_err(ClientError::KeyRefused)?;
                let sha512 = identity
                    .key
                    .sign(&m1, SignatureHash::Sha512, form)
                    .map_err(ClientError::KeyRefused)?;
                elements.push(Element::new(
                    tag::CERTIFICATE,
                    message::wrap_certificate(
                        &identity.certificate,
                        self.options.auth_certificate_type,
                    ),
                ));
                elements.push(Element::new(tag::SIGNED_DATA, sha1));
                elements.push(Element::new(
                    tag::SHA2_SIGNED_DATA,
                    message::encode_block(hash_id::SHA512, &sha512),
                ));
                if let Some(sudi) = sudi {
                    let mut m2 = self.session_id.unwrap_or(0).to_le_bytes().to_vec();
                    m2.extend_from_slice(&sudi.certificate);
                    let data = SudiData {
                        certificate: sudi.certificate.clone(),
                        sha1_signature: sudi
                            .key
                            .sign(&m2, SignatureHash::Sha1, form)
                            .map_err(ClientError::KeyRefused)?,
                        sha512_signature: sudi
                            .key
                            .sign(&m2, SignatureHash::Sha512, form)
                            .map_err(ClientError::KeyRefused)?,
                    };
                    elements.push(Element::new(tag::SUDI_DATA, data.encode()));
                }
            }
        }
        let mode = self.credentials.mode();
        self.progress(Progress::Authenticating {
            device,
            mode,
            version,
        });
        self.send(command::AUTH_RESPONSE, elements)?;
        self.state = State::AwaitOperation;
        Ok(())
    }

    /// The driver generated the key asked for by [`Action::GenerateKey`].
    pub fn key_generated(&mut self, key: Result<DeviceKey, KeyError>) {
        if self.state != State::GeneratingKey {
            return;
        }
        let result = match key {
            Ok(key) => {
                let kind = key.kind();
                let spki = key.spki().to_vec();
                self.new_key = Some(key);
                self.progress(Progress::PublicKeySent {
                    key: kind.to_string(),
                });
                self.state = State::AwaitStoreRequest;
                self.send(
                    command::KEY_GENERATE_RESPONSE,
                    vec![Element::new(tag::PUBLIC_KEY, spki)],
                )
            }
            Err(error) => self.refuse_key(error),
        };
        if let Err(e) = result {
            self.fail(e);
        }
        self.process();
    }

    fn handle_store_request(
        &mut self,
        certificate_type: Option<u8>,
        certificate: Vec<u8>,
        now: SystemTime,
    ) -> Result<(), ClientError> {
        let our_spki = self.new_key.as_ref().map(|k| k.spki().to_vec());
        let checked = match (certificate_type, our_spki) {
            (Some(t), _) if t != certificate_type::LSC => {
                Err(format!("certificate type {t}, not an LSC (1)"))
            }
            (_, None) => Err("no key was generated in this session".to_owned()),
            (_, Some(spki)) => check_issued(&certificate, &spki, &self.options.device_name, now),
        };
        match checked {
            Ok(info) => {
                self.progress(Progress::CertificateReceived(info.clone()));
                self.issued = Some((certificate.clone(), info));
                self.state = State::Storing;
                self.outputs
                    .push_back(Output::Action(Action::StoreCertificate { certificate }));
                Ok(())
            }
            Err(reason) => {
                self.rejection = Some(reason);
                self.new_key = None;
                self.state = State::AwaitEnd(Pending::InstallFailed);
                self.send(
                    command::STORE_CERTIFICATE_RESPONSE,
                    vec![message::reason(Reason::InvalidElement)],
                )
            }
        }
    }

    /// The driver stored (or failed to store) the certificate of [`Action::StoreCertificate`].
    pub fn certificate_stored(&mut self, result: Result<(), String>) {
        if self.state != State::Storing {
            return;
        }
        let (reason, pending) = match result {
            Ok(()) => (Reason::UpdateCertificate, Pending::Installed),
            Err(e) => {
                self.rejection = Some(e);
                (Reason::InvalidElement, Pending::InstallFailed)
            }
        };
        self.state = State::AwaitEnd(pending);
        if let Err(e) = self.send(
            command::STORE_CERTIFICATE_RESPONSE,
            vec![message::reason(reason)],
        ) {
            self.fail(e);
        }
        self.process();
    }

    /// The driver read the stored LSC (`None`: there is none) for [`Action::FetchCertificate`].
    pub fn certificate_fetched(&mut self, certificate: Option<Vec<u8>>) {
        if self.state != State::Fetching {
            return;
        }
        let elements = match &certificate {
            Some(der) => vec![
                message::reason(Reason::UpdateCertificate),
                Element::new(
                    tag::CERTIFICATE,
                    message::wrap_certificate(der, certificate_type::LSC),
                ),
            ],
            None => vec![message::reason(Reason::InvalidElement)],
        };
        self.state = State::AwaitEnd(Pending::Fetched(certificate.is_some()));
        if let Err(e) = self.send(command::FETCH_CERTIFICATE_RESPONSE, elements) {
            self.fail(e);
        }
        self.process();
    }

    /// The driver deleted the LSC (`Ok(false)`: there was none) for
    /// [`Action::DeleteCertificate`].
    pub fn certificate_deleted(&mut self, result: Result<bool, String>) {
        if self.state != State::Deleting {
            return;
        }
        let (reason, existed) = match &result {
            Ok(true) => (Reason::UpdateCertificate, true),
            Ok(false) => (Reason::InvalidElement, false),
            Err(e) => {
                self.rejection = Some(e.clone());
                (Reason::InvalidElement, true)
            }
        };
        self.state = State::AwaitEnd(Pending::Deleted(existed));
        if let Err(e) = self.send(
            command::DELETE_CERTIFICATE_RESPONSE,
            vec![message::reason(reason)],
        ) {
            self.fail(e);
        }
        self.process();
    }

    fn handle_end(&mut self, reason: Reason) -> Result<(), ClientError> {
        self.progress(Progress::SessionEnded {
            reason: reason.code(),
        });
        let device = self.options.device_name.clone();
        let state = self.state;
        let result = match (state, reason) {
            (State::AwaitEnd(Pending::Installed), Reason::UpdateCertificate) => {
                match self.issued.take() {
                    Some((_, info)) => Ok(Outcome::Installed(info)),
                    None => Err(ClientError::Failed {
                        code: 1,
                        state: state.describe(),
                    }),
                }
            }
            (State::AwaitEnd(Pending::InstallFailed), _) => Err(match self.rejection.take() {
                Some(reason) if self.issued.is_some() => ClientError::Store(reason),
                Some(reason) => ClientError::CertificateRejected(reason),
                None => ClientError::Failed {
                    code: reason.code(),
                    state: state.describe(),
                },
            }),
            (State::AwaitEnd(Pending::KeyRefused), _) => Err(ClientError::KeyRefused(
                self.key_refusal
                    .take()
                    .unwrap_or(KeyError::Crypto("key refused")),
            )),
            (
                State::AwaitEnd(Pending::Fetched(sent)),
                Reason::NoAction | Reason::UpdateCertificate,
            ) => Ok(Outcome::Fetched { sent }),
            (
                State::AwaitEnd(Pending::Deleted(existed)),
                Reason::UpdateCertificate | Reason::NoAction,
            ) => match self.rejection.take() {
                Some(e) => Err(ClientError::Store(e)),
                None => Ok(Outcome::Deleted { existed }),
            },
            (State::AwaitOperation, Reason::NoAction) => {
                Err(ClientError::NothingScheduled { device })
            }
            (_, Reason::UnknownDevice) => Err(ClientError::UnknownDevice { device }),
            (State::AwaitOperation, Reason::InvalidElement) => {
                Err(ClientError::AuthenticationRefused {
                    device,
                    hint: match self.credentials {
                        Credentials::AuthString(_) => {
                            "wrong or already used authentication string (ask the administrator for a new one), or the device is set to another authentication mode"
                        }
                        Credentials::None => {
                            "the device needs an authentication string or an existing certificate, or (CUCM) its certificate was already issued"
                        }
                        Credentials::Certificate { .. } => {
                            "our certificate or its signature was not accepted (not issued by a CA the server trusts?), or the device is set to another authentication mode"
                        }
                    },
                })
            }
            (state, reason) => Err(ClientError::Failed {
                code: reason.code(),
                state: state.describe(),
            }),
        };
        self.state = State::Done;
        self.result = Some(result);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capf::message::{Curve, KeyRequest};

    fn frame(command: u8, elements: Vec<Element>) -> Vec<u8> {
        Frame::new(command, 42, elements).encode().unwrap()
    }

    fn auth_request() -> Vec<u8> {
        frame(
            command::AUTH_REQUEST,
            vec![Element::u8(tag::VERSION, 3), Element::u8(tag::AUTH_TYPE, 0)],
        )
    }

    fn transmits(client: &mut Client) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(o) = client.poll_output() {
            if let Output::Transmit(bytes) = o {
                out.push(bytes);
            }
        }
        out
    }

    #[test]
    fn worked_example_auth_response_is_byte_exact() {
        let mut client = Client::new(
            ClientOptions::new("SEP00AABBCCDDEE"),
            Credentials::AuthString(AuthString::new("246810")),
        );
        client.handle_bytes(&auth_request(), SystemTime::now());
        let sent = transmits(&mut client);
        let expected: Vec<u8> = [
            &[0x55, 0x02, 0, 0, 0, 0x2a, 0, 0x25][..],
            &[0x07, 0, 1, 3],
            &[0x0d, 0, 0x10],
            b"SEP00AABBCCDDEE\0",
            &[0x01, 0, 1, 1],
            &[0x0b, 0, 7],
            b"246810\0",
        ]
        .concat();
        assert_eq!(sent, vec![expected]);
    }

    #[test]
    fn auth_string_never_shows_in_debug() {
        let client = Client::new(
            ClientOptions::new("SEP1"),
            Credentials::AuthString(AuthString::new("135791")),
        );
        assert!(!format!("{client:?}").contains("135791"));
    }

    #[test]
    fn rsa_1024_request_is_refused_without_a_public_key() {
        let mut client = Client::new(ClientOptions::new("SEP1"), Credentials::None);
        client.handle_bytes(&auth_request(), SystemTime::now());
        transmits(&mut client);
        client.handle_bytes(
            &frame(
                command::KEY_GENERATE_REQUEST,
                vec![
                    Element::u8(tag::KEY_TYPE, 0),
                    Element::u16(tag::KEY_SIZE, 1024),
                ],
            ),
            SystemTime::now(),
        );
        let sent = transmits(&mut client);
        assert_eq!(sent, vec![vec![0x55, 4, 0, 0, 0, 42, 0, 4, 1, 0, 1, 7]]);
        client.handle_bytes(
            &frame(command::END_SESSION, vec![Element::u8(tag::REASON, 7)]),
            SystemTime::now(),
        );
        let err = client.result().unwrap().clone().unwrap_err();
        assert!(matches!(
            err,
            ClientError::KeyRefused(KeyError::TooWeak { bits: 1024, .. })
        ));
        assert!(err.to_string().contains("2048"), "{err}");
    }

    #[test]
    fn end_reasons_map_to_distinct_errors() {
        for (code, check) in [
            (0u8, "no operation scheduled"),
            (9, "does not know device"),
            (7, "wrong or already used authentication string"),
            (42, "reason 42"),
        ] {
            let mut client = Client::new(
                ClientOptions::new("SEP1"),
                Credentials::AuthString(AuthString::new("1234")),
            );
            client.handle_bytes(&auth_request(), SystemTime::now());
            client.handle_bytes(
                &frame(command::END_SESSION, vec![Element::u8(tag::REASON, code)]),
                SystemTime::now(),
            );
            let err = client.result().unwrap().clone().unwrap_err().to_string();
            assert!(err.contains(check), "{code}: {err}");
            assert!(!err.contains("1234"));
        }
    }

    #[test]
    fn session_id_change_and_garbage_are_errors_not_panics() {
        let mut client = Client::new(ClientOptions::new("SEP1"), Credentials::None);
        client.handle_bytes(&auth_request(), SystemTime::now());
        let other = Frame::new(command::END_SESSION, 43, vec![Element::u8(tag::REASON, 1)])
            .encode()
            .unwrap();
        client.handle_bytes(&other, SystemTime::now());
        assert!(matches!(
            client.result(),
            Some(Err(ClientError::SessionMismatch {
                expected: 42,
                got: 43
            }))
        ));

        let mut client = Client::new(ClientOptions::new("SEP1"), Credentials::None);
        client.handle_bytes(&[0x55, 1, 0, 0, 0, 1, 0, 4, 7, 0, 9, 3], SystemTime::now());
        assert!(matches!(client.result(), Some(Err(ClientError::Wire(_)))));

        let mut client = Client::new(ClientOptions::new("SEP1"), Credentials::None);
        client.handle_bytes(&[0x55, 1, 0, 0], SystemTime::now());
        assert!(client.result().is_none());
        client.handle_close();
        assert!(matches!(
            client.result(),
            Some(Err(ClientError::Closed { .. }))
        ));
    }

    #[test]
    fn ec_key_request_asks_the_driver_after_request_in_progress() {
        let mut client = Client::new(ClientOptions::new("SEP1"), Credentials::None);
        client.handle_bytes(&auth_request(), SystemTime::now());
        transmits(&mut client);
        client.handle_bytes(
            &frame(
                command::KEY_GENERATE_REQUEST,
                vec![Element::u8(tag::KEY_TYPE, 1), Element::u8(tag::CURVE, 0)],
            ),
            SystemTime::now(),
        );
        let mut outputs = Vec::new();
        while let Some(o) = client.poll_output() {
            outputs.push(o);
        }
        assert!(
            matches!(&outputs[1], Output::Transmit(b) if b == &[0x55, 0x11, 0, 0, 0, 42, 0, 0])
        );
        assert!(matches!(
            &outputs[2],
            Output::Action(Action::GenerateKey(KeyKind::Ec { curve: Curve::P256 }))
        ));
    }

    #[test]
    fn frames_pipelined_behind_an_action_wait_for_its_result() {
        // Found by the fuzzer: FETCH and END_SESSION in one read.
        let mut client = Client::new(ClientOptions::new("SEP1"), Credentials::None);
        let mut bytes = auth_request();
        bytes.extend(frame(command::FETCH_CERTIFICATE_REQUEST, Vec::new()));
        bytes.extend(frame(
            command::END_SESSION,
            vec![Element::u8(tag::REASON, 0)],
        ));
        client.handle_bytes(&bytes, SystemTime::now());
        client.handle_close();
        assert!(client.result().is_none(), "the end waits for the fetch");
        client.certificate_fetched(Some(vec![0x30, 0]));
        assert_eq!(
            client.result().cloned(),
            Some(Ok(Outcome::Fetched { sent: true }))
        );
        let sent = transmits(&mut client);
        assert_eq!(
            sent.len(),
            2,
            "AUTH_RESPONSE then FETCH_CERTIFICATE_RESPONSE"
        );
        assert_eq!(sent[1][1], command::FETCH_CERTIFICATE_RESPONSE);
    }

    #[test]
    fn unexpected_request_is_out_of_order() {
        let mut client = Client::new(ClientOptions::new("SEP1"), Credentials::None);
        client.handle_bytes(&auth_request(), SystemTime::now());
        client.handle_bytes(
            &frame(
                command::STORE_CERTIFICATE_REQUEST,
                vec![Element::new(
                    tag::CERTIFICATE,
                    message::wrap_certificate(&[0x30], 1),
                )],
            ),
            SystemTime::now(),
        );
        assert!(matches!(
            client.result(),
            Some(Err(ClientError::OutOfOrder { .. }))
        ));
        let _ = KeyRequest::Rsa(2048);
    }
}
