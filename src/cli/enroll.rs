//! `lockphone enroll`: obtain, renew or inspect the account's LSC over CAPF.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lockphone::capf::client::Progress;
use lockphone::capf::client::{
    AuthIdentity, AuthString, ClientOptions, Credentials, Outcome, VersionPolicy,
};
use lockphone::capf::driver::{DriverEvent, EnrollError, EnrollEvent, EnrollOptions, enroll};
use lockphone::capf::keys::{DeviceKey, RsaSignatureForm};
use lockphone::capf::store::{DEFAULT_RENEW_AFTER, LscStore};
use lockphone::config::{CapfConfig, Config};

use super::output::print_line;
use super::{EXIT_CONFIG, EXIT_OK, EXIT_REFUSED, EXIT_TLS, EXIT_UNREACHABLE};

/// Arguments of `lockphone enroll`.
#[derive(Debug, clap::Args)]
pub(crate) struct EnrollArgs {
    /// The configuration file; its account's `[account.capf]` gives defaults and the store.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    /// The account (default: the first one).
    #[arg(long, short = 'a')]
    account: Option<String>,
    /// The CAPF server, HOST or HOST:PORT (port 3804 by default).
    #[arg(long)]
    capf: Option<String>,
    /// The device name configured on the server (e.g. SEP0A0B0C0D0E0F).
    #[arg(long)]
    device: Option<String>,
    /// Read the authentication string from this file (first line; mode 0600).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["auth_string", "existing_cert"])]
    auth_string_file: Option<PathBuf>,
    /// Prompt for the authentication string on the terminal (never on the command line).
    #[arg(long, conflicts_with = "existing_cert")]
    auth_string: bool,
    /// Authenticate with the installed LSC (renewal), or with --auth-cert/--auth-key.
    #[arg(long)]
    existing_cert: bool,
    /// With --existing-cert: a manufacturer (or other) certificate to authenticate with, PEM.
    #[arg(long, value_name = "FILE", requires = "auth_key")]
    auth_cert: Option<PathBuf>,
    /// The private key of --auth-cert, PEM PKCS#8 (mode 0600).
    #[arg(long, value_name = "FILE", requires = "auth_cert")]
    auth_key: Option<PathBuf>,
    /// PEM file with the CAPF server's certificate or its issuer (the pin).
    #[arg(long, value_name = "FILE")]
    capf_cert: Option<PathBuf>,
    /// The certificate store folder (default: the account's, or one per device).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Show the installed LSC and its expiry, then exit.
    #[arg(long, conflicts_with_all = ["renew_if_due"])]
    status: bool,
    /// Renew with the installed LSC if the configured share of its lifetime has passed.
    #[arg(long)]
    renew_if_due: bool,
    /// Share of the lifetime after which renewal is due (default: account's, else 0.67).
    #[arg(long)]
    renew_after: Option<f64>,
    /// CAPF VERSION to send (default: echo the server's).
    #[arg(long)]
    capf_version: Option<u8>,
    /// RSA signature padding in existing-certificate mode.
    #[arg(long, value_parser = ["unprefixed", "digest-info"])]
    rsa_signature: Option<String>,
    /// Do not send REQUEST_IN_PROGRESS before generating the key.
    #[arg(long)]
    no_request_in_progress: bool,
    /// Seconds to wait for the server at each step.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
}

struct Failure(String, u8);

fn config_error(message: impl Into<String>) -> Failure {
    Failure(message.into(), EXIT_CONFIG)
}

/// Runs the command; returns the exit code.
pub(crate) async fn run(args: EnrollArgs) -> u8 {
    let json = args.json;
    match execute(args).await {
        Ok(()) => EXIT_OK,
        Err(Failure(message, code)) => {
            if json {
                print_json(&serde_json::json!({"event": "failed", "error": message}));
            }
            eprintln!("lockphone: {message}");
            code
        }
    }
}

fn print_json(value: &impl serde::Serialize) {
    if let Ok(line) = serde_json::to_string(value) {
        print_line(&line);
    }
}

fn describe(event: &EnrollEvent) -> String {
    match event {
        EnrollEvent::Driver(d) => match d {
            DriverEvent::Connecting { server } => format!("connecting to CAPF server {server}"),
            DriverEvent::Connected {
                tls_version,
                cipher_suite,
                pinned,
                server_sha256,
                ..
            } => format!(
                "connected: {tls_version}, {cipher_suite}, server certificate matches the pinned {} (sha256 {server_sha256})",
                match pinned {
                    lockphone::capf::pin::PinMatch::Certificate => "certificate",
                    lockphone::capf::pin::PinMatch::Issuer => "issuer",
                }
            ),
            DriverEvent::KeyGenerated { key, millis } => {
                format!("generated an {key} key in {millis} ms")
            }
            DriverEvent::CertificateStored { certificate, key } => {
                format!("stored the LSC in {certificate} and its key in {key} (mode 0600)")
            }
            DriverEvent::CertificateSent { present } => {
                if *present {
                    "sent our LSC to the server".to_owned()
                } else {
                    "the server asked for our LSC but none is installed".to_owned()
                }
            }
            DriverEvent::CertificateDeleted { existed } => {
                if *existed {
                    "deleted the LSC and its key".to_owned()
                } else {
                    "the server asked to delete our LSC but none is installed".to_owned()
                }
            }
        },
        EnrollEvent::Step(step) => match step {
            Progress::SessionOpened {
                session_id,
                version,
                ..
            } => match version {
                Some(v) => format!("session {session_id} opened (server version {v})"),
                None => format!("session {session_id} opened (server sent no version)"),
            },
            Progress::Authenticating {
                device,
                mode,
                version,
            } => {
                format!("authenticating as {device} ({mode}, version {version})")
            }
            Progress::KeyRequested { key } => format!("the server asks for an {key} key"),
            Progress::KeyRefused { reason } => format!("refused the key request: {reason}"),
            Progress::PublicKeySent { key } => format!("sent the {key} public key"),
            Progress::CertificateReceived(info) => format!(
                "received certificate {} from {}, valid until {} (checked: our key, valid now, names the device)",
                info.subject, info.issuer, info.not_after
            ),
            Progress::FetchRequested => "the server asks for our LSC".to_owned(),
            Progress::DeleteRequested => "the server asks us to delete our LSC".to_owned(),
            Progress::SessionEnded { reason } => format!("session ended (reason {reason})"),
        },
    }
}

fn read_first_line(path: &std::path::Path) -> Result<String, Failure> {
    lockphone::tls::check_private(path).map_err(|e| config_error(e.to_string()))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| config_error(format!("cannot read {}: {e}", path.display())))?;
    Ok(text.lines().next().unwrap_or_default().trim().to_owned())
}

fn split_host_port(text: &str) -> Result<(String, u16), Failure> {
    let bad = || config_error(format!("--capf `{text}`: expected HOST or HOST:PORT"));
    if let Some(rest) = text.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or_else(bad)?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if tail.is_empty() => lockphone::capf::DEFAULT_PORT,
            None => return Err(bad()),
        };
        return Ok((host.to_owned(), port));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Ok((host.to_owned(), port.parse().map_err(|_| bad())?))
        }
        _ if text.is_empty() => Err(bad()),
        _ => Ok((text.to_owned(), lockphone::capf::DEFAULT_PORT)),
    }
}

async fn execute(args: EnrollArgs) -> Result<(), Failure> {
    let account = match &args.config {
        Some(path) => {
            let config = Config::load(path).map_err(|e| config_error(e.to_string()))?;
            Some(
                config
                    .account(args.account.as_deref())
                    .map_err(|e| config_error(e.to_string()))?
                    .clone(),
            )
        }
        None => None,
    };
    let capf_config: Option<CapfConfig> = account.as_ref().and_then(|a| a.capf.clone());
    let device = args
        .device
        .clone()
        .or_else(|| capf_config.as_ref().and_then(|c| c.device.clone()));
    let store_dir = match (&args.store, &account, &device) {
        (Some(dir), _, _) => dir.clone(),
        (None, Some(account), _) => account
            .certificate_store()
            .map_err(|e| config_error(e.to_string()))?,
        (None, None, Some(device)) => {
            LscStore::default_dir(device).map_err(|e| config_error(e.to_string()))?
        }
        (None, None, None) => {
            return Err(config_error(
                "give --device (or --config with [account.capf] device), or --store",
            ));
        }
    };
    let store = LscStore::new(store_dir);
    let renew_after = args
        .renew_after
        .or_else(|| capf_config.as_ref().map(|c| c.renew_after))
        .unwrap_or(DEFAULT_RENEW_AFTER);

    if args.status {
        let status = store
            .status(renew_after, SystemTime::now())
            .map_err(|e| config_error(e.to_string()))?;
        if args.json {
            print_json(&status);
        } else {
            match (&status.certificate, &status.key) {
                (Some(info), Some(key)) => {
                    let days = status.expires_in_secs.unwrap_or(0) / 86_400;
                    print_line(&format!(
                        "LSC installed in {}\n  subject  {}\n  issuer   {}\n  key      {key}\n  valid    {} .. {} ({})\n  sha256   {}\n  md5      {}\n  renewal  {}",
                        status.store.display(),
                        info.subject,
                        info.issuer,
                        info.not_before,
                        info.not_after,
                        if status.expires_in_secs.unwrap_or(0) < 0 {
                            "EXPIRED".to_owned()
                        } else {
                            format!("expires in {days} days")
                        },
                        info.sha256,
                        info.md5,
                        if status.renewal_due {
                            "due (lockphone enroll --renew-if-due)"
                        } else {
                            "not due"
                        }
                    ));
                }
                _ => print_line(&format!("no LSC installed in {}", status.store.display())),
            }
        }
        return Ok(());
    }

    let renewing = args.renew_if_due;
    if renewing {
        let status = store
            .status(renew_after, SystemTime::now())
            .map_err(|e| config_error(e.to_string()))?;
        let Some(info) = status.certificate else {
            return Err(config_error(format!(
                "no LSC installed in {} to renew: enroll first",
                store.dir().display()
            )));
        };
        if !status.renewal_due {
            let message = format!(
                "renewal not due: the LSC is valid until {} (renewal after {:.0} % of its lifetime)",
                info.not_after,
                renew_after * 100.0
            );
            if args.json {
                print_json(
                    &serde_json::json!({"event": "renewal-not-due", "not_after": info.not_after}),
                );
            } else {
                print_line(&message);
            }
            return Ok(());
        }
    }

    let device = device.ok_or_else(|| config_error("--device is required"))?;
    let server = args
        .capf
        .clone()
        .or_else(|| capf_config.as_ref().and_then(|c| c.server.clone()))
        .ok_or_else(|| config_error("--capf HOST[:PORT] is required"))?;
    let (host, port) = split_host_port(&server)?;
    let pin_file = args
        .capf_cert
        .clone()
        .or_else(|| capf_config.as_ref().and_then(|c| c.server_certificate.clone()))
        .ok_or_else(|| {
            config_error(
                "--capf-cert FILE is required: the CAPF server's certificate or its issuer, obtained from the administrator",
            )
        })?;
    let pins = lockphone::tls::load_certificate_chain(&pin_file)
        .map_err(|e| config_error(e.to_string()))?;

    let credentials = if args.existing_cert || renewing {
        let identity = match (&args.auth_cert, &args.auth_key) {
            (Some(cert), Some(key)) => {
                let chain = lockphone::tls::load_certificate_chain(cert)
                    .map_err(|e| config_error(e.to_string()))?;
                let certificate = chain
                    .first()
                    .map(|c| c.as_ref().to_vec())
                    .ok_or_else(|| config_error("--auth-cert holds no certificate"))?;
                let text = read_key_file(key)?;
                let key = DeviceKey::from_pem(&text)
                    .map_err(|e| config_error(format!("{}: {e}", key.display())))?;
                AuthIdentity { certificate, key }
            }
            _ => {
                let lsc = store
                    .load()
                    .map_err(|e| config_error(e.to_string()))?
                    .ok_or_else(|| {
                        config_error(format!(
                            "--existing-cert: no LSC installed in {} (use --auth-cert/--auth-key for a manufacturer certificate)",
                            store.dir().display()
                        ))
                    })?;
                AuthIdentity {
                    certificate: lsc.certificate,
                    key: lsc.key,
                }
            }
        };
        Credentials::Certificate {
            identity,
            sudi: None,
        }
    } else if let Some(file) = &args.auth_string_file {
        Credentials::AuthString(AuthString::new(read_first_line(file)?))
    } else if args.auth_string {
        if !std::io::stdin().is_terminal() {
            return Err(config_error(
                "--auth-string prompts on a terminal; without one use --auth-string-file",
            ));
        }
        let text = rpassword::prompt_password("CAPF authentication string: ")
            .map_err(|e| config_error(format!("cannot read the authentication string: {e}")))?;
        Credentials::AuthString(AuthString::new(text))
    } else {
        Credentials::None
    };

    let mut client = ClientOptions::new(device);
    if let Some(version) = args
        .capf_version
        .or_else(|| capf_config.as_ref().and_then(|c| c.version))
    {
        client.version = VersionPolicy::Fixed(version);
    }
    client.rsa_signature = match args.rsa_signature.as_deref() {
        Some("digest-info") => RsaSignatureForm::DigestInfo,
        Some(_) => RsaSignatureForm::Unprefixed,
        None => capf_config
            .as_ref()
            .map(|c| c.rsa_signature)
            .unwrap_or_default(),
    };
    client.request_in_progress =
        !args.no_request_in_progress && capf_config.as_ref().is_none_or(|c| c.request_in_progress);
    let mut options = EnrollOptions::new(host, pins, client);
    options.port = port;
    options.timeout = Duration::from_secs(args.timeout.max(1));

    let json = args.json;
    let result = enroll(&options, credentials, &store, |event| {
        if json {
            print_json(event);
        } else {
            print_line(&describe(event));
        }
    })
    .await;
    match result {
        Ok(outcome) => {
            if json {
                print_json(&serde_json::json!({"event": "finished", "result": outcome}));
            } else {
                print_line(&match &outcome {
                    Outcome::Installed(info) => format!(
                        "enrolled: LSC {} valid until {}; accounts using store {} present it as their TLS client certificate",
                        info.subject,
                        info.not_after,
                        store.dir().display()
                    ),
                    Outcome::Fetched { sent } => {
                        format!("fetch finished (certificate sent: {sent})")
                    }
                    Outcome::Deleted { existed } => {
                        format!("delete finished (there was one: {existed})")
                    }
                });
            }
            Ok(())
        }
        Err(e) => {
            let code = match &e {
                EnrollError::Connect { .. } | EnrollError::Timeout { .. } | EnrollError::Io(_) => {
                    EXIT_UNREACHABLE
                }
                EnrollError::Pin(_) | EnrollError::Tls { .. } => EXIT_TLS,
                EnrollError::Protocol(_) => EXIT_REFUSED,
                _ => EXIT_CONFIG,
            };
            Err(Failure(e.to_string(), code))
        }
    }
}

fn read_key_file(path: &std::path::Path) -> Result<String, Failure> {
    lockphone::tls::check_private(path).map_err(|e| config_error(e.to_string()))?;
    std::fs::read_to_string(path)
        .map_err(|e| config_error(format!("cannot read {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn capf_addresses() {
        assert_eq!(split_host_port("capf.test").ok().map(|x| x.1), Some(3804));
        assert_eq!(
            split_host_port("127.0.0.1:4000").ok(),
            Some(("127.0.0.1".to_owned(), 4000))
        );
        assert_eq!(
            split_host_port("[::1]:4000").ok(),
            Some(("::1".to_owned(), 4000))
        );
        assert!(split_host_port("h:x").is_err());
    }
}
