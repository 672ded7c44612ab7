//! `lockphone loop` against real callees: 200 calls, 10 at a time, over TLS with SDES-SRTP to
//! the kit's baresip (every call Encrypted, one JSON report per call); a loop whose received
//! media crosses `--impair loss=10%` (the loss shows, concealment fills it, no gaps); and the
//! exit codes a script relies on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::baresip::{Account, start_baresip};
use support::calls::{Answerer, lockphone_callee, write_call_config};
use support::peers::{PeersRun, free_tcp_port};
use support::{json_lines, lockphone_command, tail, write_private};

/// Runs `lockphone loop -c CONFIG --target TARGET --report FILE ARGS`; its output and the
/// report's lines.
fn run_loop(
    run: &PeersRun,
    config: &Path,
    target: &str,
    args: &[&str],
    timeout_secs: u64,
) -> (Output, Vec<Value>) {
    let report = run.dir().join(format!("loop-{}.jsonl", free_tcp_port()));
    let out = lockphone_command(timeout_secs, &run.dir().join("xdg"))
        .arg("loop")
        .arg("-c")
        .arg(config)
        .args(["--target", target, "--report"])
        .arg(&report)
        .args(args)
        .output()
        .expect("run lockphone loop");
    let lines = json_lines(&std::fs::read(&report).unwrap_or_default());
    (out, lines)
}

/// The call lines and the summary line of a report (the summary last, exactly once).
fn split(lines: &[Value]) -> (Vec<&Value>, &Value) {
    let (summary, calls) = lines.split_last().expect("an empty report");
    assert_eq!(summary["type"], "summary", "last line: {summary:#}");
    assert!(calls.iter().all(|c| c["type"] == "call"));
    (calls.iter().collect(), summary)
}

fn describe(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stdout), 20),
        tail(&String::from_utf8_lossy(&out.stderr), 40)
    )
}

/// 400 RTP ports for a baresip taking many calls (it picks ports at random in its range).
fn wide_rtp_range() -> String {
    let low = 30000 + (free_tcp_port() % 45) * 400;
    format!("{}-{}", low, low + 399)
}

#[test]
fn two_hundred_calls_ten_at_a_time_to_baresip_all_encrypted() {
    let run = PeersRun::new();
    let rtp = wide_rtp_range();
    let bob = start_baresip(
        &run,
        "bob",
        &[
            "--answer",
            "--max-calls",
            "16",
            "--duration",
            "150",
            "--rtp-ports",
            &rtp,
        ],
    );
    let alice = Account::write(&run, "alice", "register = false", "codecs = [\"pcmu\"]");
    let target = format!("sip:bob@127.0.0.1:{};transport=tls", bob.tls_port);
    let started = Instant::now();
    let (out, lines) = run_loop(
        &run,
        &alice.path,
        &target,
        &[
            "--calls",
            "200",
            "--concurrency",
            "10",
            "--duration",
            "1",
            "--play",
            "tone:1000",
            "--require-secure",
        ],
        120,
    );
    let took = started.elapsed();
    let (calls, summary) = split(&lines);
    assert!(out.status.success(), "{}\n{summary:#}", describe(&out));
    assert_eq!(calls.len(), 200, "one report per call: {summary:#}");
    let indices: BTreeSet<u64> = calls.iter().map(|c| c["index"].as_u64().unwrap()).collect();
    assert_eq!(indices, (0..200).collect(), "every index once");
    let ids: BTreeSet<u64> = calls
        .iter()
        .map(|c| c["call_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 200, "a call id per call");
    for call in &calls {
        assert_eq!(call["result"], "ok", "{call:#}");
        assert_eq!(call["encrypted"], true, "{call:#}");
        assert_eq!(call["verdict"]["level"], "encrypted", "{call:#}");
        assert_eq!(call["verdict"]["transport"], "TLS", "{call:#}");
        assert!(
            call["suite"].as_str().is_some_and(|s| !s.is_empty()),
            "{call:#}"
        );
        assert_eq!(call["codec"], "pcmu", "{call:#}");
        let media = &call["media"];
        assert!(media["packets_received"].as_u64().unwrap() > 20, "{call:#}");
        assert_eq!(media["srtp_auth_failures"], 0, "{call:#}");
        assert!(call["setup_ms"].as_f64().unwrap() > 0.0, "{call:#}");
    }
    assert_eq!(summary["calls"], 200);
    assert_eq!(summary["ok"], 200);
    assert_eq!(summary["encrypted"], 200);
    assert_eq!(summary["failed"], 0);
    let setup = &summary["setup_ms"];
    let (p50, p99, max) = (
        setup["p50"].as_f64().unwrap(),
        setup["p99"].as_f64().unwrap(),
        setup["max"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{summary:#}");
    // Ten at a time: 200 calls of 1 s take about 20 s, far less than one after another.
    assert!(took < Duration::from_secs(60), "took {took:?}");
    eprintln!("200 calls, 10 concurrent, in {took:?}: {summary}");
}

#[test]
fn impaired_loop_shows_the_loss_and_conceals_it_without_gaps() {
    let run = PeersRun::new();
    let bob = start_baresip(
        &run,
        "bob",
        &["--answer", "--max-calls", "8", "--duration", "60"],
    );
    let alice = Account::write(&run, "alice", "register = false", "codecs = [\"pcmu\"]");
    let target = format!("sip:bob@127.0.0.1:{};transport=tls", bob.tls_port);
    let (out, lines) = run_loop(
        &run,
        &alice.path,
        &target,
        &[
            "--calls",
            "6",
            "--concurrency",
            "3",
            "--duration",
            "4",
            "--impair",
            "loss=10%,seed=42",
            "--require-secure",
        ],
        60,
    );
    let (calls, summary) = split(&lines);
    assert!(out.status.success(), "{}\n{summary:#}", describe(&out));
    assert_eq!(calls.len(), 6);
    let (mut lost, mut expected) = (0i64, 0i64);
    for call in &calls {
        assert_eq!(call["encrypted"], true, "{call:#}");
        let media = &call["media"];
        let impairment = &media["impairment"];
        let dropped = impairment["lost"].as_i64().unwrap();
        let pushed = impairment["pushed"].as_i64().unwrap();
        assert!(pushed > 150, "{call:#}");
        // The receiver's RFC 3550 count sees what the simulated network dropped (RTCP the
        // network dropped is not RTP loss, hence the margin).
        let rtp_lost = media["lost"].as_i64().unwrap();
        assert!(
            rtp_lost > 0 && rtp_lost <= dropped && rtp_lost + 3 >= dropped,
            "{call:#}"
        );
        // Every lost frame was concealed (no FEC with PCMU; the few lost among the packets
        // still in the jitter buffer at the hang-up were never played), and the audio never
        // stopped.
        let concealed = media["frames_concealed"].as_i64().unwrap();
        assert!(concealed > 0 && concealed + 5 >= rtp_lost, "{call:#}");
        assert_eq!(media["gap_frames"], 0, "{call:#}");
        // Every 20 ms tick played audio or concealment, but for the silence before the first
        // packet (at most half a second, even on a loaded machine).
        let frames = media["frames"].as_i64().unwrap();
        let played = media["frames_audio"].as_i64().unwrap() + concealed;
        assert!(frames >= 150 && played + 25 >= frames, "{call:#}");
        lost += rtp_lost;
        expected += media["packets_received"].as_i64().unwrap() + rtp_lost;
    }
    let rate = lost as f64 / expected as f64;
    assert!((0.07..0.13).contains(&rate), "loss {rate:.3}: {summary:#}");
    let mean = summary["mean_loss_percent"].as_f64().unwrap();
    assert!((7.0..13.0).contains(&mean), "{summary:#}");
    // Seeds differ per call (seed + index): the calls do not all lose the same packets.
    let dropped: BTreeSet<i64> = calls
        .iter()
        .map(|c| c["media"]["impairment"]["lost"].as_i64().unwrap())
        .collect();
    assert!(dropped.len() > 1, "{dropped:?}");
}

#[test]
fn exit_code_7_when_the_target_is_unreachable() {
    let run = PeersRun::new();
    let alice = write_call_config(&run, "alice", None, "");
    let target = format!("sip:bob@127.0.0.1:{};transport=tls", free_tcp_port());
    let (out, lines) = run_loop(
        &run,
        &alice,
        &target,
        &["--calls", "3", "--concurrency", "2", "--duration", "1"],
        30,
    );
    assert_eq!(out.status.code(), Some(7), "{}", describe(&out));
    let (calls, summary) = split(&lines);
    assert_eq!(calls.len(), 3);
    for call in &calls {
        assert_eq!(call["result"], "failed");
        assert_eq!(call["failure"]["kind"], "dial-failed", "{call:#}");
        assert!(call["call_id"].is_null());
    }
    assert_eq!(summary["failures"]["dial-failed"], 3, "{summary:#}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 failed"), "{text}");
}

#[test]
fn exit_code_7_when_the_callee_rejects_and_answer_reports_too() {
    let run = PeersRun::new();
    // No codec in common: the callee answers 488.
    let (callee, target) = lockphone_callee(&run, 2, "codecs = [\"opus\"]");
    let alice = write_call_config(&run, "alice", None, "codecs = [\"pcma\"]");
    let (out, lines) = run_loop(
        &run,
        &alice,
        &target,
        &["--calls", "2", "--concurrency", "2", "--duration", "1"],
        30,
    );
    assert_eq!(out.status.code(), Some(7), "{}", describe(&out));
    let (calls, summary) = split(&lines);
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(call["failure"]["kind"], "rejected", "{call:#}");
        assert!(
            call["failure"]["reason"].as_str().unwrap().contains("488"),
            "{call:#}"
        );
    }
    assert_eq!(summary["failures"]["rejected"], 2, "{summary:#}");
    let (status, _) = callee.finish(20);
    assert_eq!(status.code(), Some(3), "answer: every call refused");
}

#[test]
fn exit_code_6_when_calls_are_not_secure_and_required_and_answer_max_calls_reports() {
    let run = PeersRun::new();
    // The callee has SRTP off, the caller allows plain RTP: the calls work, not Encrypted.
    let port = free_tcp_port();
    let config = write_call_config(&run, "bob", Some(port), "srtp = \"off\"");
    let report = run.dir().join("answer.jsonl");
    let answer = Answerer::start_with(
        &run,
        &config,
        port,
        &[
            "--max-calls",
            "2",
            "--play",
            "tone:700",
            "--report",
            report.to_str().unwrap(),
        ],
        60,
    );
    let target = format!("sip:bob@127.0.0.1:{port};transport=tls");
    let alice = write_call_config(&run, "alice", None, "srtp = \"optional\"");
    let (out, lines) = run_loop(
        &run,
        &alice,
        &target,
        &[
            "--calls",
            "2",
            "--concurrency",
            "1",
            "--duration",
            "1",
            "--require-secure",
        ],
        30,
    );
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    let (calls, summary) = split(&lines);
    for call in &calls {
        assert_eq!(call["result"], "ok", "{call:#}");
        assert_eq!(call["encrypted"], false, "{call:#}");
        assert_eq!(call["verdict"]["level"], "not_secure", "{call:#}");
        assert!(!call["verdict"]["reasons"].as_array().unwrap().is_empty());
    }
    assert_eq!(summary["not_secure"], 2, "{summary:#}");
    // The callee exits by itself after --max-calls, with its own reports and summary.
    let log = answer.stderr_path();
    answer.finish(30);
    let stderr = std::fs::read_to_string(log).unwrap();
    assert!(stderr.contains("answered 2 calls"), "{stderr}");
    let (answered_calls, answered_summary) = {
        let lines = json_lines(&std::fs::read(&report).unwrap());
        let (s, c) = lines.split_last().unwrap();
        (c.to_vec(), s.clone())
    };
    assert_eq!(answered_calls.len(), 2);
    assert!(answered_calls.iter().all(|c| c["direction"] == "incoming"));
    assert_eq!(answered_summary["type"], "summary");
    assert_eq!(answered_summary["calls"], 2);
}

#[test]
fn unusable_options_exit_2_before_any_call() {
    let run = PeersRun::new();
    let alice = write_call_config(&run, "alice", None, "");
    let (out, lines) = run_loop(
        &run,
        &alice,
        "sip:bob@127.0.0.1:5061;transport=tls",
        &["--impair", "loss=5", "--calls", "1"],
        20,
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(lines.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--impair loss=5"), "{stderr}");
    // --help documents the exit codes.
    let help = lockphone_command(20, &run.dir().join("xdg"))
        .args(["loop", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for code in ["0  every call", "7  some calls failed", "6  no call failed"] {
        assert!(help.contains(code), "{help}");
    }
}

#[test]
fn exit_code_4_when_the_registrar_certificate_is_not_trusted() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    write_private(&run.dir().join("alice.password"), "alicepw");
    // Trust only the rogue self-signed certificate, not the CA that signed kamailio's: the
    // registration waits for a trust decision, which a loop without a terminal refuses.
    let config = run.dir().join("alice-rogue.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\n\
             registrar = \"sip:127.0.0.1:{port}\"\n\
             [account.auth]\nmethod = \"digest\"\npassword_file = \"alice.password\"\n\
             [account.tls]\nca_file = {:?}\n",
            run.pki().join("rogue.crt").display().to_string()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let (out, lines) = run_loop(
        &run,
        &config,
        "sip:bob@127.0.0.1",
        &["--calls", "1", "--duration", "1"],
        30,
    );
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{}",
        describe(&out)
    );
    assert!(lines.is_empty(), "no call is placed: {lines:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not trusting the certificate"), "{stderr}");
    assert!(
        !run.kamailio_log().contains("REQ REGISTER"),
        "a REGISTER crossed the untrusted TLS"
    );
}
