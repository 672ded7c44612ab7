//! The examples of `examples/` run against local peers and their output is checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

/// `examples/daemon_client.py` (Python 3, standard library only) drives a `lockphone daemon`
/// over its socket: it places a call to a Lockphone callee over TLS, prints the events, hangs
/// up, and prints the verdict.
#[test]
fn daemon_client_py_places_a_secure_call_through_the_daemon() {
    use support::calls::{Answerer, write_call_config};
    use support::daemon::Daemon;
    use support::peers::{PeersRun, free_tcp_port};

    let run = PeersRun::new();
    let port = free_tcp_port();
    let bob = write_call_config(&run, "bob", Some(port), "");
    let answerer = Answerer::start(&run, &bob, port, 1, 60);
    let alice = write_call_config(&run, "alice", None, "");
    let daemon = Daemon::start(&run, "alice", &alice, &[]);
    let script = support::repo_root().join("examples/daemon_client.py");
    let uri = format!("sip:bob@127.0.0.1:{port};transport=tls");
    let out = std::process::Command::new("timeout")
        .arg("60")
        .arg("python3")
        .arg(&script)
        .arg(&daemon.socket)
        .arg(&uri)
        .args(["--seconds", "2"])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "daemon_client.py failed ({}):\n{stdout}\n{stderr}\n{}",
        out.status,
        daemon.log_tail()
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting `{prefix}`:\n{stdout}"))
    };
    assert!(at("call 1 placed to sip:bob@127.0.0.1") < at("event call-answered"));
    assert!(at("event call-security: encrypted (lock: True)") < at("call 1 hung up"));
    assert!(at("event call-ended: hung up, verdict encrypted") < at("verdict: encrypted"));
    let events = answerer.wait_ended(1, 10);
    let ended = support::calls::summaries(&events);
    assert_eq!(ended[0]["end_reason"], "the far end hung up", "{ended:#?}");
}

// ---- examples/secure_call.rs and examples/call_loop.rs (built by cargo before the tests;
// `cargo test --test examples` alone builds a missing one here).

use std::path::PathBuf;
use std::process::Output;

use support::calls::{Answerer, write_call_config};
use support::peers::{PeersRun, free_tcp_port};

/// The built example `name` (target/<profile>/examples/NAME, beside this test's deps folder).
/// `cargo test` builds the examples first; `cargo test --test examples` does not, so a missing
/// one is built here.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build
            .args(["build", "--example", name, "--manifest-path"])
            .arg(support::repo_root().join("Cargo.toml"));
        if profile.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build --example");
        assert!(status.success(), "cannot build example {name}");
    }
    path
}

/// Runs example `name` with `args`, bounded by `secs`, with its trust store in the run.
fn run_example(run: &PeersRun, name: &str, args: &[&str], secs: u64) -> Output {
    std::process::Command::new("timeout")
        .arg("--kill-after=5")
        .arg(secs.to_string())
        .arg(example(name))
        .args(args)
        .env("XDG_CONFIG_HOME", run.dir().join("xdg"))
        .output()
        .unwrap_or_else(|e| panic!("run example {name}: {e}"))
}

/// A Lockphone callee (`lockphone answer`) for `calls` calls; its URI.
fn callee(run: &PeersRun, calls: u32) -> (Answerer, String) {
    let port = free_tcp_port();
    let config = write_call_config(run, "bob", Some(port), "");
    let answerer = Answerer::start(run, &config, port, calls, 60);
    (answerer, format!("sip:bob@127.0.0.1:{port};transport=tls"))
}

#[test]
fn secure_call_example_prints_an_encrypted_verdict() {
    let run = PeersRun::new();
    let (bob, target) = callee(&run, 1);
    let alice = write_call_config(&run, "alice", None, "");
    let out = run_example(
        &run,
        "secure_call",
        &[alice.to_str().unwrap(), &target, "1"],
        40,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("final verdict: Encrypted"), "{stdout}");
    let json = stdout
        .lines()
        .find_map(|l| l.strip_prefix("verdict json: "))
        .expect("a JSON verdict line");
    let verdict: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(verdict["level"], "encrypted");
    assert_eq!(verdict["transport"], "TLS");
    assert!(verdict["srtp_suite"].as_str().is_some());
    let (status, _) = bob.finish(15);
    assert!(status.success(), "callee: {status}");
}

#[test]
fn call_loop_example_prints_a_json_summary() {
    let run = PeersRun::new();
    let (bob, target) = callee(&run, 4);
    let alice = write_call_config(&run, "alice", None, "");
    let out = run_example(
        &run,
        "call_loop",
        &[alice.to_str().unwrap(), &target, "4", "2"],
        60,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let per_call = stdout.lines().filter(|l| l.starts_with("call ")).count();
    assert_eq!(per_call, 4, "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["calls"], 4);
    assert_eq!(summary["ok"], 4);
    assert_eq!(summary["encrypted"], 4);
    assert!(summary["setup_ms"]["p50"].as_f64().unwrap() > 0.0);
    let (status, _) = bob.finish(15);
    assert!(status.success(), "callee: {status}");
}
