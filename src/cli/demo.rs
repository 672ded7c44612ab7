//! `lockphone demo`: a secure call on this machine with nothing to configure.
//!
//! Makes a throwaway PKI (a CA, a certificate for the callee and one for the caller), starts
//! a callee listening for TLS on 127.0.0.1 and a caller, places a TLS + SDES-SRTP call
//! carrying a 1000 Hz tone one way and 440 Hz the other for a few seconds, then checks that
//! each side received the other's tone and that both verdicts are Encrypted.

use std::path::Path;
use std::time::Duration;

use lockphone::call::{CallOptions, CallSummary};
use lockphone::config::Config;
use lockphone::harness::local::LocalPki;
use lockphone::media::{AudioIn, AudioOut};
use lockphone::ua::{Event, Phone};

use super::output::print_event;
use super::{EXIT_CONFIG, EXIT_INTERNAL, EXIT_OK};

/// Exit code: the demo call did not prove what it should (no audio, not encrypted).
const EXIT_DEMO_FAILED: u8 = 1;

/// Arguments of `lockphone demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Seconds of audio.
    #[arg(long, default_value_t = 4.0)]
    duration: f64,
    /// The codec: `opus`, `pcmu` or `pcma`.
    #[arg(long, default_value = "opus")]
    codec: String,
    /// The SRTP suite to offer (default: all six, strongest first).
    #[arg(long)]
    suite: Option<String>,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
}

const CALLER_TONE: f64 = 1000.0;
const CALLEE_TONE: f64 = 440.0;

/// Runs the demo; returns the exit code.
pub(crate) async fn run(args: DemoArgs) -> u8 {
    let dir = std::env::temp_dir().join(format!("lockphone-demo-{}", std::process::id()));
    let code = match demo(&args, &dir).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("lockphone demo: {message}");
            EXIT_INTERNAL
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    code
}

async fn demo(args: &DemoArgs, dir: &Path) -> Result<u8, String> {
    let pki = LocalPki::create(dir, &["alice", "bob"])
        .map_err(|e| format!("cannot make the demo PKI: {e}"))?;
    // Without --suite the account's default list applies (all six, strongest first).
    let suites = args.suite.as_ref().map_or(String::new(), |suite| {
        format!("srtp_suites = [\"{suite}\"]\n")
    });
    let calls = format!("codecs = [\"{}\"]\n{suites}", args.codec);
    let callee_config = pki.account_toml("bob", Some("127.0.0.1:0"), &calls);
    let caller_config = pki.account_toml("alice", None, &calls);
    let load = |text: &str| -> Result<Config, u8> {
        Config::from_toml(text).map_err(|e| {
            eprintln!("lockphone demo: {e}");
            EXIT_CONFIG
        })
    };
    let (Ok(callee_config), Ok(caller_config)) = (load(&callee_config), load(&caller_config))
    else {
        return Ok(EXIT_CONFIG);
    };
    let callee_account = callee_config.account(None).map_err(|e| e.to_string())?;
    let caller_account = caller_config.account(None).map_err(|e| e.to_string())?;
    let mut callee = Phone::start(callee_account)
        .await
        .map_err(|e| format!("callee: {e}"))?;
    callee.auto_answer(Some(CallOptions {
        play: AudioIn::Tone {
            frequency_hz: CALLEE_TONE,
        },
        record: AudioOut::Null,
        impair: None,
        opus: None,
    }));
    let listening = callee.listen().await.map_err(|e| format!("callee: {e}"))?;
    println!("demo: callee bob listening on tls:{listening}");
    let mut caller = Phone::start(caller_account)
        .await
        .map_err(|e| format!("caller: {e}"))?;
    let uri = format!("sip:bob@{listening};transport=tls");
    println!("demo: caller alice calls {uri}");
    let call = caller
        .dial(
            &uri,
            CallOptions {
                play: AudioIn::Tone {
                    frequency_hz: CALLER_TONE,
                },
                record: AudioOut::Null,
                impair: None,
                opus: None,
            },
        )
        .await
        .map_err(|e| format!("caller: {e}"))?;
    let (caller_summary, callee_summary) = run_call(&mut caller, &mut callee, call, args).await;
    caller.shutdown().await;
    callee.shutdown().await;
    Ok(judge(caller_summary.as_ref(), callee_summary.as_ref()))
}

/// Prints both sides' events, hangs up after the duration, returns both summaries.
async fn run_call(
    caller: &mut Phone,
    callee: &mut Phone,
    call: lockphone::call::CallId,
    args: &DemoArgs,
) -> (Option<CallSummary>, Option<CallSummary>) {
    let mut caller_summary = None;
    let mut callee_summary = None;
    let give_up = tokio::time::sleep(Duration::from_secs_f64(args.duration + 20.0));
    tokio::pin!(give_up);
    let mut hangup_at: Option<tokio::time::Instant> = None;
    while caller_summary.is_none() || callee_summary.is_none() {
        let hangup = async {
            match hangup_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = caller.next_event() => match event {
                Some(event) => {
                    show("caller", &event, args.json);
                    match event {
                        Event::CallAnswered { .. } if hangup_at.is_none() => {
                            hangup_at = Some(tokio::time::Instant::now() + Duration::from_secs_f64(args.duration));
                        }
                        Event::CallEnded { summary, .. } => caller_summary = Some(*summary),
                        _ => {}
                    }
                }
                None => break,
            },
            event = callee.next_event() => match event {
                Some(event) => {
                    show("callee", &event, args.json);
                    if let Event::CallEnded { summary, .. } = event {
                        callee_summary = Some(*summary);
                    }
                }
                None => break,
            },
            () = hangup => {
                hangup_at = None;
                caller.hangup(call);
            }
            () = &mut give_up => {
                eprintln!("lockphone demo: the call did not end in time");
                break;
            }
        }
    }
    (caller_summary, callee_summary)
}

fn show(side: &str, event: &Event, json: bool) {
    if json {
        print_event(event, true);
    } else if !matches!(event, Event::CallStats { .. }) || side == "caller" {
        let text = super::output::describe(event);
        for line in text.lines() {
            println!("{side}: {line}");
        }
    }
}

/// Checks what the demo must prove; prints a line per check.
fn judge(caller: Option<&CallSummary>, callee: Option<&CallSummary>) -> u8 {
    let mut ok = true;
    let mut check = |passed: bool, what: String| {
        println!("demo: {} {what}", if passed { "PASS" } else { "FAIL" });
        ok &= passed;
    };
    for (side, summary, expected) in [
        ("caller", caller, CALLEE_TONE),
        ("callee", callee, CALLER_TONE),
    ] {
        let Some(summary) = summary else {
            check(false, format!("{side}: the call never ended properly"));
            continue;
        };
        let lock = summary.verdict.as_ref().is_some_and(|v| v.lock);
        check(
            summary.reached_encrypted && lock,
            format!(
                "{side}: verdict {}",
                summary
                    .verdict
                    .as_ref()
                    .map_or("none".to_owned(), ToString::to_string)
            ),
        );
        let heard = summary
            .media
            .as_ref()
            .and_then(|m| m.stats.audio.dominant_frequency_hz);
        check(
            heard.is_some_and(|f| (f - expected).abs() <= expected * 0.03),
            format!(
                "{side}: received the far end's {expected:.0} Hz tone (heard {})",
                heard.map_or("nothing".to_owned(), |f| format!("{f:.0} Hz"))
            ),
        );
    }
    if ok { EXIT_OK } else { EXIT_DEMO_FAILED }
}
