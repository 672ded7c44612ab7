//! Place a secure call and print its security verdict.
//!
//! ```sh
//! cargo run --example secure_call -- lockphone.toml 'sip:bob@127.0.0.1:5061;transport=tls' [SECONDS]
//! ```
//!
//! Uses the first account of the configuration (registering first if it registers), calls
//! the target with a 440 Hz tone, hangs up after SECONDS (default 2) once answered, and
//! prints the verdict with its reasons. Exits 0 only if the call was Encrypted.

use std::process::ExitCode;
use std::time::Duration;

use lockphone::call::CallOptions;
use lockphone::config::Config;
use lockphone::ua::{Event, Phone};
use lockphone::verdict::SecurityLevel;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("secure_call: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(config), Some(target)) = (args.next(), args.next()) else {
        return Err("usage: secure_call CONFIG TARGET-URI [SECONDS]".into());
    };
    let seconds: f64 = args.next().map_or(Ok(2.0), |s| s.parse())?;
    let config = Config::load(config.as_ref())?;
    let account = config.account(None)?;
    let mut phone = Phone::start(account).await?;
    if account.register {
        phone.register();
        loop {
            match phone.next_event().await {
                Some(Event::Registered { .. }) => break,
                Some(Event::RegistrationFailed { reason, .. }) => return Err(reason.into()),
                Some(_) => {}
                None => return Err("the user agent stopped".into()),
            }
        }
    }
    let call = phone.dial(&target, CallOptions::default()).await?;
    let mut hangup = None;
    let summary = loop {
        let wait = async {
            match hangup {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = phone.next_event() => match event {
                Some(Event::CallSecurity { call: c, verdict }) if c == call => {
                    println!("verdict now: {verdict}");
                    hangup.get_or_insert(tokio::time::Instant::now() + Duration::from_secs_f64(seconds));
                }
                Some(Event::CallEnded { call: c, summary }) if c == call => break summary,
                Some(_) => {}
                None => return Err("the user agent stopped".into()),
            },
            () = wait => phone.hangup(call),
        }
    };
    phone.shutdown().await;
    println!("call ended: {}", summary.end_reason);
    let Some(verdict) = &summary.verdict else {
        println!("final verdict: none (the call was not answered)");
        return Ok(false);
    };
    println!("final verdict: {verdict}");
    for reason in &verdict.reasons {
        println!("  because: {reason}");
    }
    println!("verdict json: {}", serde_json::to_string(verdict)?);
    Ok(verdict.level == SecurityLevel::Encrypted)
}
