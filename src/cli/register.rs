//! `lockphone register`.

use std::time::Duration;

use lockphone::config::Config;
use lockphone::ua::{Event, FailureKind, Phone, UaError};

use super::output::print_event;
use super::{AccountArgs, EXIT_CONFIG, EXIT_OK, EXIT_REFUSED, EXIT_TLS, EXIT_UNREACHABLE};

/// Arguments of `lockphone register`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Stay registered this many seconds, then un-register and exit (default: until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
}

/// Runs the command; returns the exit code.
pub(crate) async fn run(args: RegisterArgs) -> u8 {
    let json = args.account.json;
    let config = match Config::load(&args.account.config) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), EXIT_CONFIG),
    };
    let account = match config.account(args.account.account.as_deref()) {
        Ok(a) => a,
        Err(e) => return fail(&e.to_string(), EXIT_CONFIG),
    };
    let mut phone = match Phone::start(account).await {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string(), exit_code_for_start(&e)),
    };
    phone.register();
    let deadline = async {
        match args.duration {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut registered = false;
    let code = loop {
        tokio::select! {
            event = phone.next_event() => {
                let Some(event) = event else { break EXIT_OK };
                print_event(&event, json);
                match &event {
                    Event::Registered { .. } => registered = true,
                    Event::LoginRequired { reason, .. } => {
                        eprintln!("lockphone: {reason}");
                        break EXIT_REFUSED;
                    }
                    Event::RegistrationFailed { kind, reason } => {
                        eprintln!("lockphone: registration failed: {reason}");
                        break exit_code_for(*kind);
                    }
                    _ => {}
                }
            }
            () = &mut deadline => break EXIT_OK,
            _ = tokio::signal::ctrl_c() => break EXIT_OK,
        }
    };
    if code == EXIT_OK && registered {
        phone.unregister();
        let wait = tokio::time::sleep(Duration::from_secs(5));
        tokio::pin!(wait);
        loop {
            tokio::select! {
                event = phone.next_event() => match event {
                    Some(event) => {
                        print_event(&event, json);
                        if matches!(event, Event::Unregistered | Event::RegistrationFailed { .. }) {
                            break;
                        }
                    }
                    None => break,
                },
                () = &mut wait => {
                    eprintln!("lockphone: the registrar did not answer the un-REGISTER within 5 s");
                    break;
                }
            }
        }
    }
    phone.shutdown().await;
    code
}

fn fail(message: &str, code: u8) -> u8 {
    eprintln!("lockphone: {message}");
    code
}

fn exit_code_for(kind: FailureKind) -> u8 {
    match kind {
        FailureKind::Credentials | FailureKind::Refused => EXIT_REFUSED,
        FailureKind::Tls => EXIT_TLS,
        FailureKind::Unreachable => EXIT_UNREACHABLE,
        FailureKind::Config => EXIT_CONFIG,
    }
}

/// Errors before anything is sent are about local files and settings (CA file, key
/// permissions, credentials) except a name that does not resolve.
fn exit_code_for_start(error: &UaError) -> u8 {
    match error {
        UaError::Unreachable(_) | UaError::Transport(_) => EXIT_UNREACHABLE,
        _ => EXIT_CONFIG,
    }
}
