//! One server-side CAPF session, following capfd's checks and reasons (reference §5).

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::devices::{AuthMode, Operation};
use super::{SessionRecord, Shared};
use crate::capf::keys::{self, SignatureHash};
use crate::capf::message::{self, KeyRequest, SudiData, command, hash_id, tag};
use crate::capf::wire::{Element, Frame, FrameDecoder};

struct Session {
    tls: TlsStream<TcpStream>,
    decoder: FrameDecoder,
    id: u32,
    shared: Arc<Shared>,
    device: String,
}

/// Why a session stops: an END_SESSION reason to send, or a silent close.
enum Stop {
    End(u8, String),
    Close(String),
}

type Step<T> = Result<T, Stop>;

fn refuse(detail: impl Into<String>) -> Stop {
    Stop::End(7, detail.into())
}

pub(super) async fn run(tls: TlsStream<TcpStream>, shared: Arc<Shared>) {
    let id = shared.next_session_id();
    let mut session = Session {
        tls,
        decoder: FrameDecoder::default(),
        id,
        shared,
        device: String::new(),
    };
    let stop = match session.converse().await {
        Ok(never) => match never {},
        Err(stop) => stop,
    };
    let (reason, detail) = match stop {
        Stop::End(reason, detail) => {
            let _ = session
                .send(command::END_SESSION, vec![Element::u8(tag::REASON, reason)])
                .await;
            (Some(reason), detail)
        }
        Stop::Close(detail) => (None, detail),
    };
    let _ = session.tls.shutdown().await;
    tracing::info!(
        "CAPF session {id}: device `{}`: {detail} (END_SESSION {reason:?})",
        session.device
    );
    if let Ok(mut records) = session.shared.records.lock() {
        records.push(SessionRecord {
            session_id: id,
            device: session.device.clone(),
            reason,
            detail,
        });
    }
}

enum Never {}

impl Session {
    /// Changes this session's device entry.
    fn update(&self, change: impl FnOnce(&mut super::devices::Device)) {
        if let Some(entry) = self
            .shared
            .devices
            .lock()
            .ok()
            .as_mut()
            .and_then(|t| t.get_mut(&self.device))
        {
            change(entry);
        }
    }

    async fn send(&mut self, command: u8, elements: Vec<Element>) -> Step<()> {
        let bytes = Frame::new(command, self.id, elements)
            .encode()
            .map_err(|e| Stop::Close(e.to_string()))?;
        self.tls
            .write_all(&bytes)
            .await
            .map_err(|e| Stop::Close(format!("write failed: {e}")))?;
        self.tls
            .flush()
            .await
            .map_err(|e| Stop::Close(format!("write failed: {e}")))
    }

    async fn receive(&mut self) -> Step<Frame> {
        let mut buf = [0u8; 8192];
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => {
                    if frame.session_id != self.id {
                        return Err(refuse(format!(
                            "session ID {} instead of {}",
                            frame.session_id, self.id
                        )));
                    }
                    if let Some(bad) = frame
                        .elements
                        .iter()
                        .find(|e| !tag::FROM_CLIENT.contains(&e.tag))
                    {
                        return Err(refuse(format!("unknown tag {} from the client", bad.tag)));
                    }
                    return Ok(frame);
                }
                Ok(None) => {}
                Err(e) => return Err(refuse(format!("malformed message: {e}"))),
            }
            let read = tokio::time::timeout(self.shared.options.timeout, self.tls.read(&mut buf))
                .await
                .map_err(|_| Stop::Close("client timed out".to_owned()))?
                .map_err(|e| Stop::Close(format!("read failed: {e}")))?;
            if read == 0 {
                return Err(Stop::Close("client closed the connection".to_owned()));
            }
            self.decoder.push(buf.get(..read).unwrap_or_default());
        }
    }

    async fn expect(&mut self, wanted: u8) -> Step<Frame> {
        let frame = self.receive().await?;
        if frame.command != wanted {
            return Err(refuse(format!(
                "expected {}, got {}",
                command::name(wanted),
                command::name(frame.command)
            )));
        }
        Ok(frame)
    }

    async fn converse(&mut self) -> Step<Never> {
        let mut hello = vec![Element::u8(tag::VERSION, 3)];
        if self.shared.options.send_auth_type {
            hello.push(Element::u8(tag::AUTH_TYPE, 0));
        }
        self.send(command::AUTH_REQUEST, hello).await?;
        let auth = self.expect(command::AUTH_RESPONSE).await?;
        let version =
            message::get_u8(&auth, tag::VERSION, "VERSION").map_err(|e| refuse(e.to_string()))?;
        if !version.is_some_and(|v| self.shared.options.accepted_versions.contains(&v)) {
            return Err(refuse(format!("VERSION {version:?} not accepted")));
        }
        let name = auth
            .get(tag::DEVICE_NAME)
            .ok_or_else(|| refuse("no DEVICE_NAME"))?;
        // capfd strips the last byte blindly (reference §2).
        let name_value = name.to_vec();
        self.device =
            String::from_utf8_lossy(name.get(..name.len().saturating_sub(1)).unwrap_or_default())
                .into_owned();
        let device = self
            .shared
            .devices
            .lock()
            .ok()
            .and_then(|t| t.get(&self.device).cloned())
            .ok_or_else(|| Stop::End(9, "unknown device".to_owned()))?;
        match device.authentication {
            AuthMode::Password => {
                let given = message::get_string(&auth, tag::PASSWORD, "PASSWORD")
                    .ok()
                    .flatten();
                let ok =
                    matches!((&device.password, &given), (Some(want), Some(got)) if want == got);
                if !ok {
                    return Err(refuse("wrong or missing authentication string"));
                }
            }
            AuthMode::NoPassword => {}
            AuthMode::Certificate => self.check_certificate_auth(&auth, &name_value)?,
        }
        match device.operation {
            Operation::None => Err(Stop::End(
                self.shared.options.nothing_scheduled_reason,
                "nothing scheduled".to_owned(),
            )),
            Operation::Install => self.install(device.key_request()).await,
            Operation::Fetch => self.fetch().await,
            Operation::Delete => self.delete().await,
        }
    }

    fn check_certificate_auth(&self, auth: &Frame, name_value: &[u8]) -> Step<()> {
        let wrapped = auth
            .get(tag::CERTIFICATE)
            .ok_or_else(|| refuse("certificate mode without CERTIFICATE"))?;
        let (_, der) = message::unwrap_certificate(wrapped).map_err(|e| refuse(e.to_string()))?;
        let sha1 = auth
            .get(tag::SIGNED_DATA)
            .ok_or_else(|| refuse("certificate mode without SIGNED_DATA"))?;
        let sha2 = auth
            .get(tag::SHA2_SIGNED_DATA)
            .ok_or_else(|| refuse("certificate mode without SHA2_SIGNED_DATA"))?;
        let ((hash, sha512), _) =
            message::decode_block(sha2, "SHA2_SIGNED_DATA").map_err(|e| refuse(e.to_string()))?;
        if hash != hash_id::SHA512 {
            return Err(refuse(format!("SHA2_SIGNED_DATA hash ID {hash}, not 3")));
        }
        use x509_parser::prelude::{FromDer, X509Certificate};
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| refuse(format!("bad certificate: {e}")))?;
        let mut trusted = vec![self.shared.ca.certificate()];
        trusted.extend(self.shared.options.verify_cas.iter().cloned());
        let issued_by_trusted = trusted.iter().any(|ca| {
            X509Certificate::from_der(ca.as_ref()).is_ok_and(|(_, ca)| {
                cert.issuer().as_raw() == ca.subject().as_raw()
                    && cert.verify_signature(Some(ca.public_key())).is_ok()
            })
        });
        if !issued_by_trusted {
            return Err(refuse("certificate not issued by a trusted CA"));
        }
        let spki = cert.public_key().raw;
        let mut m1 = name_value.to_vec();
        m1.extend_from_slice(der);
        if !keys::verify_signature(spki, &m1, SignatureHash::Sha1, sha1) {
            return Err(refuse("SHA-1 signature does not verify"));
        }
        if !keys::verify_signature(spki, &m1, SignatureHash::Sha512, sha512) {
            return Err(refuse("SHA-512 signature does not verify"));
        }
        if let Some(value) = auth.get(tag::SUDI_DATA) {
            let sudi = SudiData::decode(value).map_err(|e| refuse(e.to_string()))?;
            let (_, sudi_cert) = X509Certificate::from_der(&sudi.certificate)
                .map_err(|e| refuse(format!("bad SUDI certificate: {e}")))?;
            let sudi_spki = sudi_cert.public_key().raw;
            if matches!(keys::spki_kind(sudi_spki), Some(keys::KeyKind::Rsa { .. })) {
                let mut m2 = self.id.to_le_bytes().to_vec();
                m2.extend_from_slice(&sudi.certificate);
                let ok = keys::verify_signature(
                    sudi_spki,
                    &m2,
                    SignatureHash::Sha1,
                    &sudi.sha1_signature,
                ) && keys::verify_signature(
                    sudi_spki,
                    &m2,
                    SignatureHash::Sha512,
                    &sudi.sha512_signature,
                );
                if !ok {
                    return Err(refuse("SUDI signature does not verify"));
                }
            }
        }
        Ok(())
    }

    async fn install(&mut self, request: KeyRequest) -> Step<Never> {
        let elements = match request {
            KeyRequest::Ec(curve) => vec![
                Element::u8(tag::KEY_TYPE, 1),
                Element::u8(tag::CURVE, curve.code()),
            ],
            KeyRequest::Rsa(bits) => vec![
                Element::u8(tag::KEY_TYPE, 0),
                Element::u16(tag::KEY_SIZE, bits),
            ],
            KeyRequest::UnknownCurve(code) => {
                vec![Element::u8(tag::KEY_TYPE, 1), Element::u8(tag::CURVE, code)]
            }
            KeyRequest::UnknownType(code) => vec![Element::u8(tag::KEY_TYPE, code)],
        };
        self.send(command::KEY_GENERATE_REQUEST, elements).await?;
        let mut response = self.receive().await?;
        if response.command == command::REQUEST_IN_PROGRESS {
            response = self.receive().await?;
        }
        if response.command != command::KEY_GENERATE_RESPONSE {
            return Err(refuse(format!(
                "expected KEY_GENERATE_RESPONSE, got {}",
                command::name(response.command)
            )));
        }
        let spki = response
            .get(tag::PUBLIC_KEY)
            .ok_or_else(|| refuse(format!("client refused to generate {request}")))?;
        let kind =
            keys::spki_kind(spki).ok_or_else(|| refuse("PUBLIC_KEY is not an RSA or EC SPKI"))?;
        let matches = match (request, kind) {
            (KeyRequest::Rsa(bits), keys::KeyKind::Rsa { bits: got }) => bits == got,
            (KeyRequest::Ec(curve), keys::KeyKind::Ec { curve: got }) => curve == got,
            _ => false,
        };
        if !matches {
            return Err(refuse(format!("asked for {request}, got {kind}")));
        }
        let certificate = self
            .shared
            .ca
            .issue(&self.device, spki, self.shared.options.validity_days)
            .map_err(|e| refuse(format!("issuing failed: {e}")))?;
        // Like capfd: record the certificate and use up the operation (and the one-time
        // string) before delivering it.
        self.update(|entry| {
            entry.operation = Operation::None;
            entry.password = None;
            entry.certificate = Some(certificate.clone());
        });
        self.send(
            command::STORE_CERTIFICATE_REQUEST,
            vec![
                Element::u8(tag::CERTIFICATE_TYPE, message::certificate_type::LSC),
                Element::new(
                    tag::CERTIFICATE,
                    message::wrap_certificate(&certificate, message::certificate_type::LSC),
                ),
            ],
        )
        .await?;
        let stored = self.expect(command::STORE_CERTIFICATE_RESPONSE).await?;
        let reason = message::get_u8(&stored, tag::REASON, "REASON")
            .ok()
            .flatten();
        let detail = if reason == Some(1) {
            format!("installed ({kind})")
        } else {
            format!("issued ({kind}) but the client reported storage failure {reason:?}")
        };
        Err(Stop::End(1, detail))
    }

    async fn fetch(&mut self) -> Step<Never> {
        self.send(command::FETCH_CERTIFICATE_REQUEST, Vec::new())
            .await?;
        let response = self.expect(command::FETCH_CERTIFICATE_RESPONSE).await?;
        let reason = message::get_u8(&response, tag::REASON, "REASON")
            .ok()
            .flatten();
        let certificate = response
            .get(tag::CERTIFICATE)
            .and_then(|v| message::unwrap_certificate(v).ok())
            .map(|(_, der)| der.to_vec());
        let detail = match (reason, certificate) {
            (Some(1), Some(der)) => {
                self.update(|entry| {
                    entry.operation = Operation::None;
                    entry.certificate = Some(der);
                });
                "fetched".to_owned()
            }
            _ => "fetch: the client has no certificate".to_owned(),
        };
        Err(Stop::End(0, detail))
    }

    async fn delete(&mut self) -> Step<Never> {
        self.send(command::DELETE_CERTIFICATE_REQUEST, Vec::new())
            .await?;
        let response = self.expect(command::DELETE_CERTIFICATE_RESPONSE).await?;
        let reason = message::get_u8(&response, tag::REASON, "REASON")
            .ok()
            .flatten();
        let detail = if reason == Some(1) {
            self.update(|entry| {
                entry.operation = Operation::None;
                entry.certificate = None;
            });
            "deleted".to_owned()
        } else {
            "delete: the client had no certificate".to_owned()
        };
        Err(Stop::End(1, detail))
    }
}
