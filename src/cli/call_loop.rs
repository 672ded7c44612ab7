//! `lockphone loop`: N calls to a target, C at a time, a JSON report per call, a summary, and
//! exit codes a script can rely on.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lockphone::harness::{CallLoop, LoopOptions, LoopProgress, LoopSummary, ReportLine};
use lockphone::media::AudioOut;
use lockphone::ua::Phone;

use super::call::{EXIT_NOT_SECURE, parse_impair, parse_play};
use super::prompt::TrustPrompt;
use super::report::ReportWriter;
use super::start::{fail, start_phone, wait_registered};
use super::{AccountArgs, EXIT_CALLS_FAILED, EXIT_CONFIG, EXIT_OK};

/// Exit codes of `lockphone loop`, as `--help` shows them.
const EXIT_CODES: &str = "\
Exit codes:
  0  every call was answered, carried media and ended normally (and with --require-secure,
     every call was Encrypted)
  7  some calls failed (not placed, refused, not answered in time, no media, ...): the
     report's `failure.kind` says which, the summary counts them by kind
  6  no call failed, but some were not Encrypted and --require-secure was given
  2  could not start: the configuration, --play, --impair or --report is unusable
  3  could not start: the registrar refused the registration
  4  could not start: TLS to the registrar failed
  5  could not start: the registrar is unreachable";

/// Arguments of `lockphone loop`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct LoopArgs {
    /// The configuration file (see examples/lockphone.toml).
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// The account to use (default: the first one in the file).
    #[arg(long, short = 'a')]
    account: Option<String>,
    /// Who to call: `sip:bob@192.0.2.7:5061;transport=tls`, or a URI the registrar routes.
    #[arg(long)]
    target: String,
    /// How many calls to place.
    #[arg(long, default_value_t = 1)]
    calls: u32,
    /// How many calls to keep in flight at once.
    #[arg(long, default_value_t = 1)]
    concurrency: u32,
    /// How long each call lasts once answered, in seconds.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// At most this many new calls per second (default: as fast as --concurrency allows).
    #[arg(long)]
    rate: Option<f64>,
    /// Give up on a call not answered within this many seconds.
    #[arg(long, default_value_t = 30.0)]
    setup_timeout: f64,
    /// What each call sends: `tone` (440 Hz), `tone:HZ`, `silence`, or a WAV file (looped).
    #[arg(long, default_value = "tone")]
    play: String,
    /// Pass each call's received media through a simulated bad network, e.g.
    /// `loss=5%,burst=3,jitter=20ms,reorder=1%,seed=42`; call i of the loop uses seed + i.
    #[arg(long, value_name = "SPEC")]
    impair: Option<String>,
    /// Write one JSON line per call and a summary line at the end to FILE, or `-` (stdout).
    #[arg(long, value_name = "FILE|-")]
    report: Option<PathBuf>,
    /// Exit with 6 if a call was not Encrypted (when none failed).
    #[arg(long)]
    require_secure: bool,
    /// Accept calls that received no media packet as Ok.
    #[arg(long)]
    allow_no_media: bool,
}

impl LoopArgs {
    fn options(&self) -> Result<LoopOptions, String> {
        let seconds = |name: &str, value: f64| {
            (value.is_finite() && value >= 0.0)
                .then(|| Duration::from_secs_f64(value))
                .ok_or_else(|| format!("--{name} {value}: give a number of seconds ≥ 0"))
        };
        if self.calls == 0 || self.concurrency == 0 {
            return Err("--calls and --concurrency must be at least 1".to_owned());
        }
        if self.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err("--rate: give a number of calls per second > 0".to_owned());
        }
        let mut options = LoopOptions::new(
            &self.target,
            self.calls,
            self.concurrency,
            seconds("duration", self.duration)?,
        );
        options.rate = self.rate;
        options.setup_timeout = seconds("setup-timeout", self.setup_timeout)?;
        options.require_media = !self.allow_no_media;
        options.call.play = parse_play(&self.play)?;
        options.call.record = AudioOut::Null;
        options.call.impair = parse_impair(self.impair.as_deref())?;
        Ok(options)
    }
}

/// Runs `lockphone loop`.
pub(crate) async fn run(args: LoopArgs) -> u8 {
    let options = match args.options() {
        Ok(options) => options,
        Err(e) => return fail(&e, EXIT_CONFIG),
    };
    let mut writer = match ReportWriter::open(args.report.as_deref()) {
        Ok(writer) => writer,
        Err(e) => return fail(&e, EXIT_CONFIG),
    };
    let account = AccountArgs {
        config: args.config.clone(),
        account: args.account.clone(),
        json: false,
    };
    let (mut phone, account) = match start_phone(&account).await {
        Ok(started) => started,
        Err(code) => return code,
    };
    // Events are not shown: stdout may carry the report. A trust question is still
    // decided (asked on a terminal, else refused), or the registration would wait forever.
    let prompt = TrustPrompt::new(false, account.tls.untrusted);
    if account.register
        && let Err(code) = wait_registered(&mut phone, prompt, |_| {}).await
    {
        phone.shutdown().await;
        return code;
    }
    let summary = run_loop(&mut phone, options, &mut writer).await;
    phone.shutdown().await;
    if writer.is_stdout() {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    exit_code(&summary, args.require_secure)
}

/// Runs the loop, writing each report and showing progress; returns the summary.
async fn run_loop(
    phone: &mut Phone,
    options: LoopOptions,
    writer: &mut ReportWriter,
) -> LoopSummary {
    let total = options.calls;
    let mut calls = CallLoop::new(phone, options);
    let stopper = calls.stopper();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("lockphone: stopping: hanging up the calls in flight");
            stopper.stop();
        }
    });
    let mut progress = Progress::new(total);
    while let Some(report) = calls.next_report().await {
        writer.write(&ReportLine::Call(&report));
        progress.update(calls.progress());
    }
    ctrl_c.abort();
    let summary = calls.summary();
    progress.finish(calls.progress());
    writer.write(&ReportLine::Summary(&summary));
    summary
}

/// The exit code of a finished loop.
fn exit_code(summary: &LoopSummary, require_secure: bool) -> u8 {
    if summary.failed > 0 {
        EXIT_CALLS_FAILED
    } else if require_secure && summary.not_secure > 0 {
        EXIT_NOT_SECURE
    } else {
        EXIT_OK
    }
}

/// A progress bar on a terminal, plain lines (at most one a second) otherwise; on stderr.
enum Progress {
    Bar(ProgressBar),
    Lines { last: std::time::Instant },
}

impl Progress {
    fn new(total: u32) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar =
                ProgressBar::with_draw_target(Some(u64::from(total)), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                last: std::time::Instant::now(),
            }
        }
    }

    fn counts(p: LoopProgress) -> String {
        format!(
            "ok {}  failed {}  not secure {}  in flight {}",
            p.ok, p.failed, p.not_secure, p.in_flight
        )
    }

    fn update(&mut self, p: LoopProgress) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(u64::from(p.done));
                bar.set_message(Self::counts(p));
            }
            Progress::Lines { last } => {
                if last.elapsed() >= Duration::from_secs(1) {
                    *last = std::time::Instant::now();
                    eprintln!("loop: {}/{} done  {}", p.done, p.total, Self::counts(p));
                }
            }
        }
    }

    fn finish(self, p: LoopProgress) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(u64::from(p.done));
                bar.finish_with_message(Self::counts(p));
            }
            Progress::Lines { .. } => {
                eprintln!("loop: {}/{} done  {}", p.done, p.total, Self::counts(p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn summary(failed: u32, not_secure: u32) -> LoopSummary {
        LoopSummary {
            calls: 10,
            ok: 10 - failed,
            failed,
            encrypted: 10 - failed - not_secure,
            not_secure,
            setup_ms: None,
            failures: BTreeMap::new(),
            mean_mos: None,
            mean_loss_percent: None,
            elapsed_secs: 1.0,
        }
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(&summary(0, 0), true), EXIT_OK);
        assert_eq!(exit_code(&summary(0, 2), false), EXIT_OK);
        assert_eq!(exit_code(&summary(0, 2), true), EXIT_NOT_SECURE);
        assert_eq!(exit_code(&summary(1, 2), true), EXIT_CALLS_FAILED);
        assert!(EXIT_CODES.contains("7  some calls failed"));
    }
}
