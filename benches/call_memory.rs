//! Resident memory per call across a long loop: the number that says whether a long-running
//! harness leaks (PJSUA2 grows by about 10 KB a call, pjsip/pjproject#4350; the goal here is
//! under 100 bytes).
//!
//! A callee and a caller `Phone` in this process (throw-away PKI, TLS, SDES-SRTP, PCMU,
//! silence), a [`CallLoop`] placing short calls many at a time. The warm-up is a loop as long
//! as the measured one, so that the allocator has already reached the high-water mark of a
//! loop (every call of the last 32 s still holds its transactions: timer L, 64·T1, keeps an
//! answered INVITE's server transaction); after it and a pause longer than the timers, the
//! resident set size is the baseline; then the measured loop, the same pause, and the growth
//! divided by the calls is printed. RSS straight after the loop (timers still holding their
//! transactions) and the calls the phones still hold are printed too.
//!
//! ```sh
//! cargo bench --bench call_memory
//! LOCKPHONE_BENCH_CALLS=2000 LOCKPHONE_BENCH_DRAIN_SECS=35 cargo bench --bench call_memory
//! ```
//! Under `cargo test --all-targets` (no `--bench` argument) it only runs 20 + 20 calls with no
//! pause, to prove it works. Knobs: `LOCKPHONE_BENCH_CALLS` (10000), `LOCKPHONE_BENCH_WARMUP` (as many),
//! `LOCKPHONE_BENCH_CONCURRENCY` (50), `LOCKPHONE_BENCH_CALL_MS` (100, each call's length),
//! `LOCKPHONE_BENCH_DRAIN_SECS` (40).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::{Duration, Instant};

use lockphone::call::CallOptions;
use lockphone::harness::{CallLoop, LoopOptions, LoopSummary};
use lockphone::media::AudioIn;
use lockphone::ua::Phone;
use support::{by_mode, knob, rss_bytes, start_pair};

async fn run(
    phone: &mut Phone,
    target: &str,
    calls: u32,
    concurrency: u32,
    call: Duration,
) -> LoopSummary {
    let mut options = LoopOptions::new(target, calls, concurrency, call);
    options.call.play = AudioIn::Silence;
    options.require_media = false;
    let mut calls = CallLoop::new(phone, options);
    while calls.next_report().await.is_some() {}
    calls.summary()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::main]
async fn main() {
    let calls: u32 = knob("LOCKPHONE_BENCH_CALLS", by_mode(10_000, 20));
    let warmup: u32 = knob("LOCKPHONE_BENCH_WARMUP", calls);
    let concurrency: u32 = knob("LOCKPHONE_BENCH_CONCURRENCY", 50);
    let call = Duration::from_millis(knob("LOCKPHONE_BENCH_CALL_MS", 100));
    let drain = Duration::from_secs(knob("LOCKPHONE_BENCH_DRAIN_SECS", by_mode(40, 0)));
    let answer = CallOptions {
        play: AudioIn::Silence,
        ..CallOptions::default()
    };
    let mut pair = start_pair("codecs = [\"pcmu\"]", answer).await;
    let callee_drain = tokio::spawn(async move {
        let mut ended = 0u64;
        while pair.callee_ended.recv().await.is_some() {
            ended += 1;
        }
        ended
    });
    let started = Instant::now();
    let warm = run(&mut pair.caller, &pair.target, warmup, concurrency, call).await;
    println!("call_memory: warm-up {warm}");
    println!(
        "call_memory: warm-up done, RSS {:.2} MiB; waiting {} s for the transaction timers",
        mib(rss_bytes()),
        drain.as_secs()
    );
    tokio::time::sleep(drain).await;
    let baseline = rss_bytes();
    let measured_at = Instant::now();
    let loop_summary = run(&mut pair.caller, &pair.target, calls, concurrency, call).await;
    let after_loop = rss_bytes();
    println!(
        "call_memory: {loop_summary}\ncall_memory: {calls} calls in {:.1} s ({:.0} calls/s)",
        measured_at.elapsed().as_secs_f64(),
        f64::from(calls) / measured_at.elapsed().as_secs_f64()
    );
    tokio::time::sleep(drain).await;
    let drained = rss_bytes();
    let held = pair.caller.status().await.map_or(0, |s| s.calls.len());
    println!("call_memory: calls the caller still holds after the pause: {held}");
    let per_call = |rss: u64| (rss as f64 - baseline as f64) / f64::from(calls.max(1));
    println!(
        "call_memory: RSS baseline {:.2} MiB, right after the loop {:.2} MiB ({:+.0} B/call, timers still running), after {} s {:.2} MiB",
        mib(baseline),
        mib(after_loop),
        per_call(after_loop),
        drain.as_secs(),
        mib(drained),
    );
    println!(
        "call_memory: growth per call after the timers drained: {:+.1} bytes/call over {calls} calls (goal < 100; PJSUA2 ≈ 10 KB/call); failed calls: {}; total {:.0} s",
        per_call(drained),
        loop_summary.failed,
        started.elapsed().as_secs_f64()
    );
    pair.caller.shutdown().await;
    pair.callee_task.abort();
    callee_drain.abort();
}
