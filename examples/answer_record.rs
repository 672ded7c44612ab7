//! Answer one incoming call and record what the caller says to a WAV file.
//!
//! ```text
//! cargo run --example answer_record -- CONFIG.toml [--account NAME] [--out FILE.wav] [--timeout SECS]
//! ```
//!
//! The account listens on `[account.calls] listen` (a direct call) and/or registers (a call
//! through the registrar). The first incoming call is answered with silence and recorded
//! (48 kHz mono 16-bit WAV, default `answered-call.wav` in the current folder); when it ends
//! the example prints where the recording is, its length and the call's security verdict.
//! Uses only the public API: `Phone::start`, `listen`, `register`, `next_event`, `answer`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lockphone::call::CallOptions;
use lockphone::config::Config;
use lockphone::ua::{Event, Phone};

struct Args {
    config: PathBuf,
    account: Option<String>,
    out: PathBuf,
    timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut config = None;
    let mut account = None;
    let mut out = PathBuf::from("answered-call.wav");
    let mut timeout = Duration::from_secs(120);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--account" => account = Some(value("--account")?),
            "--out" => out = PathBuf::from(value("--out")?),
            "--timeout" => {
                let secs = value("--timeout")?;
                let secs: u64 = secs.parse().map_err(|_| format!("bad --timeout {secs}"))?;
                timeout = Duration::from_secs(secs);
            }
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            path => config = Some(PathBuf::from(path)),
        }
    }
    let config = config.ok_or(
        "usage: answer_record CONFIG.toml [--account NAME] [--out FILE.wav] [--timeout SECS]",
    )?;
    Ok(Args {
        config,
        account,
        out,
        timeout,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("answer_record: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let config = Config::load(&args.config).map_err(|e| e.to_string())?;
    let account = config
        .account(args.account.as_deref())
        .map_err(|e| e.to_string())?;
    let mut phone = Phone::start(account).await.map_err(|e| e.to_string())?;
    if account.calls.listen.is_some() {
        let addr = phone.listen().await.map_err(|e| e.to_string())?;
        println!("listening for a call on {addr}");
    }
    if account.register {
        phone.register();
    }
    let outcome = tokio::time::timeout(args.timeout, answer_one(&mut phone, &args.out)).await;
    phone.shutdown().await;
    match outcome {
        Ok(result) => result,
        Err(_) => Err(format!("no call ended within {} s", args.timeout.as_secs())),
    }
}

/// Answers the first incoming call, recording it to `out`, and waits for it to end.
async fn answer_one(phone: &mut Phone, out: &std::path::Path) -> Result<(), String> {
    let mut ours = None;
    while let Some(event) = phone.next_event().await {
        match event {
            Event::Registered { contact, .. } => println!("registered as {contact}"),
            Event::RegistrationFailed { reason, .. } => {
                return Err(format!("registration failed: {reason}"));
            }
            Event::CallStarted {
                call,
                direction,
                peer,
                ..
            } if direction == "incoming" && ours.is_none() => {
                println!(
                    "incoming call from {peer}: answering, recording to {}",
                    out.display()
                );
                let options = CallOptions::silence().record_to(out);
                phone
                    .answer(call, options)
                    .await
                    .map_err(|e| format!("cannot answer: {e}"))?;
                ours = Some(call);
            }
            Event::CallSecurity { call, verdict, .. } if Some(call) == ours => {
                println!("call security: {}", verdict.level);
            }
            Event::CallEnded { call, summary } if Some(call) == ours => {
                let frames = summary
                    .media
                    .as_ref()
                    .map_or(0, |m| m.stats.audio.frames_audio);
                let level = summary
                    .verdict
                    .as_ref()
                    .map_or("unknown".to_owned(), |v| v.level.to_string());
                let path = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_owned());
                println!(
                    "recorded {:.1} s of call ({frames} audio frames received, {level}) to {}",
                    summary.duration_secs,
                    path.display()
                );
                return Ok(());
            }
            _ => {}
        }
    }
    Err("the phone stopped before a call ended".to_owned())
}
