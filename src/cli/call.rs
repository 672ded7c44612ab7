//! `lockphone call URI` and `lockphone answer`: one account, calls with audio from a file, a
//! tone, silence or a sound card, live statistics and a summary at the end.

use std::path::PathBuf;
use std::time::Duration;

use lockphone::call::{CallId, CallOptions, CallSummary};
use lockphone::media::{AudioIn, AudioOut};
use lockphone::trust::TrustDecision;
use lockphone::ua::{Event, Phone, UaError};
use lockphone_media::impair::ImpairmentSpec;
use tokio::time::Instant;

use super::prompt::TrustPrompt;
use super::report::{AnswerReports, ReportWriter};
use super::start::{exit_code_for_error, fail, start_phone, wait_registered};
use super::{AccountArgs, EXIT_CONFIG, EXIT_OK, EXIT_REFUSED};

/// Exit code: the call never reached Encrypted and `--require-secure` was given.
pub(crate) const EXIT_NOT_SECURE: u8 = 6;

/// Media options shared by `call` and `answer`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MediaArgs {
    /// What to send: `tone` (440 Hz), `tone:HZ`, `silence`, or a WAV file (looped).
    #[arg(long, default_value = "tone")]
    play: String,
    /// Write what is received to this WAV file (48 kHz mono).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Use this sound card (capture and playout) instead of --play/--record; `default` for
    /// the system default. Needs a sound card: on a headless machine use --play/--record.
    #[arg(long)]
    device: Option<String>,
    /// Hang up this many seconds after the call is answered (default: until the far end
    /// hangs up or Ctrl-C).
    #[arg(long)]
    duration: Option<f64>,
    /// Exit with status 6 unless the call reached the Encrypted verdict.
    #[arg(long)]
    require_secure: bool,
    /// Pass the received media through a simulated bad network first, e.g.
    /// `loss=5%,burst=3,jitter=20ms,reorder=1%,dup=0.5%,delay=40ms,seed=42` (seeded: the same
    /// spec drops the same packets).
    #[arg(long, value_name = "SPEC")]
    impair: Option<String>,
}

/// `--play tone|tone:HZ|silence|FILE`.
pub(crate) fn parse_play(play: &str) -> Result<AudioIn, String> {
    Ok(match play {
        "tone" => AudioIn::Tone {
            frequency_hz: 440.0,
        },
        "silence" => AudioIn::Silence,
        other => match other.strip_prefix("tone:") {
            Some(hz) => AudioIn::Tone {
                frequency_hz: hz
                    .parse()
                    .ok()
                    .filter(|f: &f64| (20.0..=20_000.0).contains(f))
                    .ok_or_else(|| format!("--play {other}: give a frequency in Hz, 20..20000"))?,
            },
            None => AudioIn::File(PathBuf::from(other)),
        },
    })
}

/// `--impair SPEC`, parsed by the media engine's impairment stage.
pub(crate) fn parse_impair(spec: Option<&str>) -> Result<Option<ImpairmentSpec>, String> {
    spec.map(|s| s.parse().map_err(|e| format!("--impair {s}: {e}")))
        .transpose()
}

impl MediaArgs {
    /// The call options these arguments describe.
    pub(crate) fn options(&self) -> Result<CallOptions, String> {
        let device = self
            .device
            .as_ref()
            .map(|name| (name != "default").then(|| name.clone()));
        let play = match &device {
            Some(name) => AudioIn::Device(name.clone()),
            None => parse_play(&self.play)?,
        };
        let record = match (&device, &self.record) {
            (Some(name), _) => AudioOut::Device(name.clone()),
            (None, Some(path)) => AudioOut::File(path.clone()),
            (None, None) => AudioOut::Null,
        };
        Ok(CallOptions {
            play,
            record,
            impair: parse_impair(self.impair.as_deref())?,
            opus: None,
        })
    }
}

/// Arguments of `lockphone call`.
#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Who to call: `sip:bob@example.test` (through the registrar when the account
    /// registers), or `sip:bob@192.0.2.7:5061;transport=tls` directly.
    uri: String,
    #[command(flatten)]
    media: MediaArgs,
}

/// Arguments of `lockphone answer`.
#[derive(Debug, clap::Args)]
pub(crate) struct AnswerArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Exit after this many calls have ended, with a summary (default: keep answering until
    /// Ctrl-C).
    #[arg(long, visible_alias = "max-calls")]
    calls: Option<u32>,
    /// Write one JSON line per call (the same report as `lockphone loop`) and a summary line
    /// at the end, to this file or `-` (stdout).
    #[arg(long, value_name = "FILE|-")]
    report: Option<PathBuf>,
    /// Give up after this many seconds without ending (default: never).
    #[arg(long)]
    timeout: Option<u64>,
    #[command(flatten)]
    media: MediaArgs,
}

/// What a call loop has seen.
#[derive(Default)]
struct Outcome {
    ended: u32,
    not_secure: bool,
    refused: bool,
}

/// Runs `lockphone call`.
pub(crate) async fn run_call(args: CallArgs) -> u8 {
    let (mut phone, registers, options, prompt) = match start(&args.account, &args.media).await {
        Ok(started) => started,
        Err(code) => return code,
    };
    let json = args.account.json;
    if registers
        && let Err(code) = wait_registered(&mut phone, prompt, |e| prompt.print(e, json)).await
    {
        phone.shutdown().await;
        return code;
    }
    let call = match dial(&mut phone, &args.uri, options, args.account.json, prompt).await {
        Ok(call) => call,
        Err(code) => {
            phone.shutdown().await;
            return code;
        }
    };
    let outcome = event_loop(
        &mut phone,
        &args.media,
        args.account.json,
        prompt,
        Some(1),
        None,
        Some(call),
        None,
    )
    .await;
    phone.shutdown().await;
    exit_code(&outcome, args.media.require_secure)
}

/// Runs `lockphone answer`.
pub(crate) async fn run_answer(args: AnswerArgs) -> u8 {
    let writer = match ReportWriter::open(args.report.as_deref()) {
        Ok(writer) => writer,
        Err(e) => return fail(&e, EXIT_CONFIG),
    };
    let (mut phone, registers, options, prompt) = match start(&args.account, &args.media).await {
        Ok(started) => started,
        Err(code) => return code,
    };
    phone.auto_answer(Some(options));
    match phone.listen().await {
        Ok(addr) => eprintln!("lockphone: listening for calls on {addr}"),
        Err(UaError::Config(reason)) if registers => {
            tracing::debug!(%reason, "no listener: calls come over the registration");
        }
        Err(e) => {
            phone.shutdown().await;
            return fail(&format!("cannot listen: {e}"), EXIT_CONFIG);
        }
    }
    let json = args.account.json;
    if registers
        && let Err(code) = wait_registered(&mut phone, prompt, |e| prompt.print(e, json)).await
    {
        phone.shutdown().await;
        return code;
    }
    let timeout = args.timeout.map(Duration::from_secs);
    let mut reports = AnswerReports::new(writer);
    let outcome = event_loop(
        &mut phone,
        &args.media,
        args.account.json,
        prompt,
        args.calls,
        timeout,
        None,
        Some(&mut reports),
    )
    .await;
    phone.shutdown().await;
    eprintln!("lockphone: answered {}", reports.finish());
    exit_code(&outcome, args.media.require_secure)
}

/// Reads the media options and the account, and starts its phone; returns the phone, whether
/// the account registers, the options and how trust questions are answered.
async fn start(
    args: &AccountArgs,
    media: &MediaArgs,
) -> Result<(Phone, bool, CallOptions, TrustPrompt), u8> {
    let options = media.options().map_err(|e| fail(&e, EXIT_CONFIG))?;
    let (phone, account) = start_phone(args).await?;
    let prompt = TrustPrompt::new(args.json, account.tls.untrusted);
    Ok((phone, account.register, options, prompt))
}

/// Dials `uri`; when the far end's certificate needs the user's decision (a direct call),
/// asks (or applies the policy) and dials once more if it was accepted.
async fn dial(
    phone: &mut Phone,
    uri: &str,
    options: CallOptions,
    json: bool,
    prompt: TrustPrompt,
) -> Result<CallId, u8> {
    let mut asked = false;
    loop {
        let error = match phone.dial(uri, options.clone()).await {
            Ok(call) => return Ok(call),
            Err(e) => e,
        };
        // The engine reports the question before it answers the dial.
        let mut decision = None;
        while let Ok(Some(event)) = tokio::time::timeout(Duration::ZERO, phone.next_event()).await {
            prompt.print(&event, json);
            if let Event::TrustDecisionRequired {
                server,
                certificate,
            } = &event
                && !asked
            {
                decision = Some(prompt.decide(phone, server, certificate).await?);
            }
        }
        asked = true;
        match decision {
            Some(TrustDecision::AlwaysTrust | TrustDecision::Continue) => continue,
            _ => {
                return Err(fail(
                    &format!("cannot call {uri}: {error}"),
                    exit_code_for_error(&error),
                ));
            }
        }
    }
}

/// Prints events until `calls` calls have ended (or Ctrl-C / `timeout`), hanging each call up
/// `--duration` seconds after it was answered.
#[allow(clippy::too_many_arguments)]
async fn event_loop(
    phone: &mut Phone,
    media: &MediaArgs,
    json: bool,
    prompt: TrustPrompt,
    calls: Option<u32>,
    timeout: Option<Duration>,
    ours: Option<CallId>,
    mut reports: Option<&mut AnswerReports>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut hangups: Vec<(CallId, Instant)> = Vec::new();
    let give_up = timeout.map(|t| Instant::now() + t);
    loop {
        let next_hangup = hangups.iter().map(|(_, at)| *at).min();
        let wake = [next_hangup, give_up].into_iter().flatten().min();
        tokio::select! {
            event = phone.next_event() => {
                let Some(event) = event else { break };
                prompt.print(&event, json);
                if let Some(reports) = reports.as_deref_mut() {
                    reports.handle(&event);
                }
                match &event {
                    Event::TrustDecisionRequired { server, certificate }
                        if prompt.decide(phone, server, certificate).await.is_err() =>
                    {
                        break;
                    }
                    Event::CallSecurity { call, .. } | Event::CallAnswered { call, .. } => {
                        if let Some(secs) = media.duration
                            && !hangups.iter().any(|(c, _)| c == call)
                        {
                            hangups.push((*call, Instant::now() + Duration::from_secs_f64(secs.max(0.0))));
                        }
                    }
                    Event::CallEnded { call, summary } => {
                        hangups.retain(|(c, _)| c != call);
                        record_end(&mut outcome, summary);
                        if calls.is_some_and(|n| outcome.ended >= n) {
                            break;
                        }
                    }
                    Event::RegistrationFailed { .. } if ours.is_none() => break,
                    _ => {}
                }
            }
            () = sleep_until(wake) => {
                let now = Instant::now();
                if give_up.is_some_and(|at| at <= now) {
                    eprintln!("lockphone: --timeout reached");
                    outcome.not_secure |= outcome.ended == 0;
                    break;
                }
                for (call, _) in hangups.iter().filter(|(_, at)| *at <= now) {
                    phone.hangup(*call);
                }
                hangups.retain(|(_, at)| *at > now);
            }
            _ = tokio::signal::ctrl_c() => {
                if let Some(call) = ours {
                    phone.hangup(call);
                }
                break;
            }
        }
    }
    outcome
}

fn record_end(outcome: &mut Outcome, summary: &CallSummary) {
    outcome.ended += 1;
    outcome.not_secure |= !summary.reached_encrypted;
    outcome.refused |= summary.verdict.is_none();
}

fn exit_code(outcome: &Outcome, require_secure: bool) -> u8 {
    if outcome.ended == 0 || outcome.refused {
        EXIT_REFUSED
    } else if require_secure && outcome.not_secure {
        EXIT_NOT_SECURE
    } else {
        EXIT_OK
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
