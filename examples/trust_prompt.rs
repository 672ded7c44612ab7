//! Answering the "trust this certificate?" question in code: register an account and, when
//! the server's certificate needs the user's decision, accept it only if its SHA-256
//! fingerprint is the one the administrator gave out of band (for this run, or for good with
//! `--always`); refuse anything else.
//!
//! ```text
//! cargo run --example trust_prompt -- lockphone.toml AB:CD:…:EF [--always]
//! ```
//!
//! Prints one line per step (`question …`, `decision …`, `registered …` or `failed …`); exits 0
//! once registered, 1 otherwise.

use std::process::ExitCode;
use std::time::Duration;

use lockphone::config::Config;
use lockphone::trust::TrustDecision;
use lockphone::ua::{Event, Phone};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(config), Some(expected)) = (args.first(), args.get(1)) else {
        eprintln!("usage: trust_prompt CONFIG EXPECTED_SHA256 [--always]");
        return ExitCode::from(2);
    };
    let always = args.iter().any(|a| a == "--always");
    match run(config, expected, always).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            println!("failed: {message}");
            ExitCode::from(1)
        }
    }
}

/// Upper-case hex without separators, for comparing fingerprints however they are written.
fn hex(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase()
}

async fn run(config: &str, expected: &str, always: bool) -> Result<(), String> {
    let config = Config::load(config.as_ref()).map_err(|e| e.to_string())?;
    let account = config.account(None).map_err(|e| e.to_string())?;
    let mut phone = Phone::start(account).await.map_err(|e| e.to_string())?;
    phone.register();
    let outcome = loop {
        let event = match tokio::time::timeout(Duration::from_secs(20), phone.next_event()).await {
            Ok(Some(event)) => event,
            Ok(None) => break Err("the phone stopped".to_owned()),
            Err(_) => break Err("no answer within 20 s".to_owned()),
        };
        match event {
            Event::TrustDecisionRequired {
                server,
                certificate,
            } => {
                println!(
                    "question: {server} presents {} ({}), sha256 {}",
                    certificate.subject, certificate.reason, certificate.sha256
                );
                let decision = match (hex(&certificate.sha256) == hex(expected), always) {
                    (true, true) => TrustDecision::AlwaysTrust,
                    (true, false) => TrustDecision::Continue,
                    (false, _) => TrustDecision::Cancel,
                };
                println!("decision: {decision:?}");
                // The registration waits for this; FIPS builds refuse anything but Cancel.
                if let Err(e) = phone.decide_trust(&server, decision) {
                    break Err(e.to_string());
                }
            }
            Event::Connected { security, .. } => {
                println!(
                    "connected: {}, trusted by {:?}",
                    security.tls_version.as_deref().unwrap_or("no TLS"),
                    security.trusted_by
                );
            }
            Event::Registered { expires_secs, .. } => {
                println!("registered for {expires_secs} s");
                break Ok(());
            }
            Event::RegistrationFailed { reason, .. } => break Err(reason),
            _ => {}
        }
    };
    phone.shutdown().await;
    outcome
}
