//! What `register`, `call` and `answer` share: loading the account, starting its phone,
//! waiting for the registration, and mapping what failed to the exit code.

use std::path::Path;

use lockphone::config::{AccountConfig, Config};
use lockphone::transport::TransportError;
use lockphone::ua::{Event, FailureKind, Phone, UaError};

use super::prompt::TrustPrompt;
use super::{AccountArgs, EXIT_CONFIG, EXIT_REFUSED, EXIT_TLS, EXIT_UNREACHABLE};

/// Prints `lockphone: MESSAGE` on stderr and returns `code`.
pub(crate) fn fail(message: &str, code: u8) -> u8 {
    eprintln!("lockphone: {message}");
    code
}

/// The account `name` (default: the first) of the configuration file `config`, or the exit
/// code after saying why not.
pub(crate) fn load_account(config: &Path, name: Option<&str>) -> Result<AccountConfig, u8> {
    let config = Config::load(config).map_err(|e| fail(&e.to_string(), EXIT_CONFIG))?;
    config
        .account(name)
        .cloned()
        .map_err(|e| fail(&e.to_string(), EXIT_CONFIG))
}

/// Loads the account the arguments name and starts its phone (nothing is sent yet).
pub(crate) async fn start_phone(args: &AccountArgs) -> Result<(Phone, AccountConfig), u8> {
    let account = load_account(&args.config, args.account.as_deref())?;
    if lockphone::tls::fips_mode() {
        eprintln!("lockphone: FIPS mode ({})", lockphone::tls::FIPS_POLICY);
    }
    let phone = Phone::start(&account)
        .await
        .map_err(|e| fail(&e.to_string(), exit_code_for_error(&e)))?;
    Ok((phone, account))
}

/// Registers and waits for the outcome, showing each event to `show`; a certificate that
/// needs the user's decision is decided by `prompt` (the registration waits for it).
pub(crate) async fn wait_registered(
    phone: &mut Phone,
    prompt: TrustPrompt,
    mut show: impl FnMut(&Event),
) -> Result<(), u8> {
    phone.register();
    while let Some(event) = phone.next_event().await {
        show(&event);
        if let Event::TrustDecisionRequired {
            server,
            certificate,
        } = &event
        {
            prompt.decide(phone, server, certificate).await?;
        }
        if let Some(outcome) = registration_outcome(&event) {
            return outcome;
        }
    }
    Err(fail("the user agent stopped", EXIT_UNREACHABLE))
}

/// What a registration event means to a command waiting for it: `Some(Ok)` registered,
/// `Some(Err(code))` failed (the reason is printed), `None` keep waiting.
pub(crate) fn registration_outcome(event: &Event) -> Option<Result<(), u8>> {
    match event {
        Event::Registered { .. } => Some(Ok(())),
        Event::LoginRequired { reason, .. } => Some(Err(fail(reason, EXIT_REFUSED))),
        Event::RegistrationFailed { kind, reason } => Some(Err(fail(
            &format!("registration failed: {reason}"),
            exit_code_for_failure(*kind),
        ))),
        _ => None,
    }
}

/// The exit code of a failed registration.
pub(crate) fn exit_code_for_failure(kind: FailureKind) -> u8 {
    match kind {
        FailureKind::Credentials | FailureKind::Refused => EXIT_REFUSED,
        FailureKind::Tls => EXIT_TLS,
        FailureKind::Unreachable => EXIT_UNREACHABLE,
        FailureKind::Config => EXIT_CONFIG,
    }
}

/// The exit code of a user-agent error: a refused TLS handshake is a TLS failure, a name that
/// does not resolve or a connection that fails is unreachable, anything else (CA file, key
/// permissions, credentials, settings) is the configuration.
pub(crate) fn exit_code_for_error(error: &UaError) -> u8 {
    match error {
        UaError::Transport(TransportError::Tls { .. }) => EXIT_TLS,
        UaError::Unreachable(_) | UaError::Transport(_) => EXIT_UNREACHABLE,
        _ => EXIT_CONFIG,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_tls_files_are_configuration_and_a_refused_handshake_is_tls() {
        let local = UaError::Tls(lockphone::tls::TlsError::UnknownIssuer);
        assert_eq!(exit_code_for_error(&local), EXIT_CONFIG);
        let refused = UaError::Transport(TransportError::Tls {
            addr: "127.0.0.1:5061".parse().unwrap(),
            source: lockphone::tls::TlsError::UnknownIssuer,
        });
        assert_eq!(exit_code_for_error(&refused), EXIT_TLS);
        assert_eq!(
            exit_code_for_error(&UaError::Unreachable("x".to_owned())),
            EXIT_UNREACHABLE
        );
    }

    #[test]
    fn load_account_picks_the_named_account_or_exits_with_config() {
        let dir = std::env::temp_dir().join(format!("lockphone-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lockphone.toml");
        std::fs::write(
            &file,
            "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregister = false\n\
             [[account]]\nname = \"bob\"\naor = \"sip:bob@127.0.0.1\"\nregister = false\n",
        )
        .unwrap();
        assert_eq!(load_account(&file, None).unwrap().name, "alice");
        assert_eq!(load_account(&file, Some("bob")).unwrap().name, "bob");
        assert_eq!(load_account(&file, Some("carol")).err(), Some(EXIT_CONFIG));
        let missing = dir.join("missing.toml");
        assert_eq!(load_account(&missing, None).err(), Some(EXIT_CONFIG));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn registration_failures_keep_their_kind() {
        let failed = |kind| Event::RegistrationFailed {
            kind,
            reason: "r".to_owned(),
        };
        assert_eq!(
            registration_outcome(&failed(FailureKind::Tls)),
            Some(Err(EXIT_TLS))
        );
        assert_eq!(
            registration_outcome(&failed(FailureKind::Credentials)),
            Some(Err(EXIT_REFUSED))
        );
        assert_eq!(registration_outcome(&Event::Unregistered), None);
    }
}
