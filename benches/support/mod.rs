//! What the call benchmarks share: a callee and a caller `Phone` on 127.0.0.1 with a
//! throw-away PKI, the callee answering every call and handing its call summaries over.
#![allow(dead_code, unreachable_pub)]

use lockphone::call::{CallOptions, CallSummary};
use lockphone::harness::local::LocalPki;
use lockphone::ua::{Event, Phone};
use tokio::sync::mpsc;

/// A caller phone, the callee's URI, and the callee's call summaries as calls end.
pub struct Pair {
    /// The caller.
    pub caller: Phone,
    /// Where to call.
    pub target: String,
    /// The callee's summaries.
    pub callee_ended: mpsc::UnboundedReceiver<CallSummary>,
    /// The callee's event task (owns the callee phone).
    pub callee_task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// Starts a callee (answering with `answer`) and a caller, both with these
/// `[account.calls]` lines (e.g. `codecs = ["pcmu"]`).
pub async fn start_pair(calls: &str, answer: CallOptions) -> Pair {
    let dir = tempfile::Builder::new()
        .prefix("lockphone-bench.")
        .tempdir()
        .expect("a temporary folder");
    let pki = LocalPki::create(&dir.path().join("pki"), &["alice", "bob"]).expect("the PKI");
    let callee_config = pki
        .config("bob", Some("127.0.0.1:0"), calls)
        .expect("callee config");
    let caller_config = pki.config("alice", None, calls).expect("caller config");
    let mut callee = Phone::start(callee_config.account(None).expect("bob"))
        .await
        .expect("callee phone");
    callee.auto_answer(Some(answer));
    let listening = callee.listen().await.expect("callee listens");
    let caller = Phone::start(caller_config.account(None).expect("alice"))
        .await
        .expect("caller phone");
    let (ended_tx, callee_ended) = mpsc::unbounded_channel();
    let callee_task = tokio::spawn(async move {
        while let Some(event) = callee.next_event().await {
            if let Event::CallEnded { summary, .. } = event
                && ended_tx.send(*summary).is_err()
            {
                break;
            }
        }
    });
    Pair {
        caller,
        target: format!("sip:bob@{listening};transport=tls"),
        callee_ended,
        callee_task,
        _dir: dir,
    }
}

/// The resident set size of this process, bytes (Linux: VmRSS of /proc/self/status).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Whether this run is a real benchmark (`cargo bench` passes `--bench`); `cargo test
/// --all-targets` runs the same binary without it, and then the benchmark only proves it
/// works with a few calls.
pub fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// A knob's default: `full` under `cargo bench`, `smoke` under `cargo test`.
pub fn by_mode<T>(full: T, smoke: T) -> T {
    if benchmarking() { full } else { smoke }
}

/// An environment knob with a default.
pub fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
