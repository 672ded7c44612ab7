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
