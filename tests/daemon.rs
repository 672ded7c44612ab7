//! `lockphone daemon` driven over its control socket against real peers: a secure call to the
//! kit's baresip over TLS (call, hold, resume, DTMF, mute, hang-up, events in order with the
//! verdict) with malformed commands from two clients while the call is up; an incoming call
//! that rings until a client answers or rejects it; the TCP port's token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use support::baresip::start_baresip;
use support::calls::{write_account, write_call_config};
use support::daemon::{Client, Daemon};
use support::peers::{PeersRun, free_tcp_port};

fn level(event: &Value) -> String {
    support::calls::level(&event["verdict"])
}

/// The socket was bound in a private folder and renamed into place: 0600 from the start, and
/// nothing left behind.
fn assert_private_socket(run: &PeersRun, daemon: &Daemon) {
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&daemon.socket).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    let leftovers: Vec<_> = std::fs::read_dir(run.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".lockphone-daemon")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn daemon_drives_a_secure_call_to_baresip_and_bad_commands_disturb_nothing() {
    let run = PeersRun::new();
    let bob = start_baresip(&run, "bob", &["--answer", "--duration", "60"]);
    let config = write_account(&run, "alice", "register = false\ntransport = \"tls\"", "");
    let daemon = Daemon::start(&run, "alice", &config, &[]);
    assert_private_socket(&run, &daemon);
    let mut client = daemon.client();
    client.ok(json!({"command": "subscribe", "stats": false}));
    let uri = format!("sip:bob@127.0.0.1:{};transport=tls", bob.tls_port);
    let result = client.ok(json!({"command": "call", "uri": uri, "play": "tone:1000"}));
    let call = result["call"].as_u64().expect("a call id");
    let security = client.wait_event("call-security", 20, |e| e["call"] == call);
    assert_eq!(level(&security), "encrypted", "{security:#}");

    // Malformed commands while the call is up, from this client and from another.
    let mut other = daemon.client();
    for c in [&mut client, &mut other] {
        c.send_raw(b"this is not json\n");
        assert_eq!(c.answer()["error"]["code"], "bad-json");
        c.send_raw(&[b'{'; 70 * 1024]);
        c.send_raw(b"\n");
        assert_eq!(c.answer()["error"]["code"], "line-too-long");
        assert_eq!(c.error_code(json!({"command": "fly"})), "unknown-command");
        assert_eq!(
            c.error_code(json!({"command": "hangup"})),
            "invalid-arguments"
        );
        assert_eq!(
            c.error_code(json!({"command": "hold", "call": "first"})),
            "invalid-arguments"
        );
        assert_eq!(
            c.error_code(json!({"command": "dtmf", "call": call, "digits": "12x"})),
            "invalid-arguments"
        );
        assert_eq!(
            c.error_code(json!({"command": "hangup", "call": 999})),
            "no-such-call"
        );
        assert_eq!(
            c.error_code(json!({"command": "answer", "call": call})),
            "wrong-state"
        );
        assert_eq!(
            c.error_code(json!({"command": "transfer", "call": call, "target": "not a uri"})),
            "invalid-arguments"
        );
    }
    // A client that leaves in the middle of a line disturbs nothing either.
    other.send_raw(br#"{"command": "hangup", "ca"#);
    drop(other);

    std::thread::sleep(Duration::from_millis(1500));
    let status = client.ok(json!({"command": "status"}));
    let calls = status["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{status:#}");
    assert_eq!(calls[0]["state"], "active", "{status:#}");
    assert_eq!(calls[0]["direction"], "outgoing");
    assert_eq!(level(&calls[0]), "encrypted");
    assert!(
        calls[0]["stats"]["packets_sent"].as_u64().unwrap() > 0,
        "{status:#}"
    );

    client.ok(json!({"command": "hold", "call": call}));
    client.wait_event("call-hold", 10, |e| e["on_hold"] == true);
    client.ok(json!({"command": "resume", "call": call}));
    client.wait_event("call-hold", 10, |e| e["on_hold"] == false);
    client.ok(json!({"command": "dtmf", "call": call, "digits": "12#"}));
    client.ok(json!({"command": "mute", "call": call}));
    let status = client.ok(json!({"command": "status"}));
    assert_eq!(status["calls"][0]["muted"], true);
    client.ok(json!({"command": "mute", "call": call, "on": false}));
    std::thread::sleep(Duration::from_millis(500));
    client.ok(json!({"command": "hangup", "call": call}));
    let ended = client.wait_event("call-ended", 15, |e| e["call"] == call);
    let summary = &ended["summary"];
    assert_eq!(summary["verdict"]["level"], "encrypted", "{summary:#}");
    assert_eq!(summary["end_reason"], "hung up", "{summary:#}");
    // The phone itself refuses what an ended call cannot do (no snapshot checked first).
    for command in [
        json!({"command": "hold", "call": call}),
        json!({"command": "dtmf", "call": call, "digits": "1"}),
        json!({"command": "hold", "call": 999}),
        json!({"command": "dtmf", "call": 999, "digits": "1"}),
    ] {
        let code = client.error_code(command.clone());
        assert!(
            code == "no-such-call" || code == "wrong-state",
            "{command} -> {code}"
        );
    }
    assert!(
        summary["media"]["stats"]["packets_received"]
            .as_u64()
            .unwrap()
            > 50,
        "{summary:#}"
    );
    // The events came in the order of the call, and no stats ticks (not subscribed).
    let order: Vec<usize> = [
        "call-started",
        "call-answered",
        "call-security",
        "call-hold",
        "call-ended",
    ]
    .iter()
    .map(|name| client.position(name))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        client.names()
    );
    assert!(!client.names().iter().any(|n| n == "call-stats"));
    let holds: Vec<bool> = client
        .events
        .iter()
        .filter(|e| e["event"] == "call-hold")
        .map(|e| e["on_hold"].as_bool().unwrap())
        .collect();
    assert_eq!(holds, [true, false]);

    client.ok(json!({"command": "shutdown"}));
    let status = daemon.wait(10);
    assert!(status.success(), "{status}");
}

#[test]
fn incoming_calls_ring_until_a_client_rejects_or_answers_them() {
    let run = PeersRun::new();
    let port = free_tcp_port();
    let config = write_call_config(&run, "bob", Some(port), "");
    let token_file = run.dir().join("token");
    support::write_private(&token_file, "0123456789abcdef-test-token\n");
    let tcp_port = free_tcp_port();
    let tcp = format!("127.0.0.1:{tcp_port}");
    let daemon = Daemon::start(
        &run,
        "bob",
        &config,
        &["--tcp", &tcp, "--token-file", token_file.to_str().unwrap()],
    );
    assert!(
        daemon.stderr_text().contains("listening for calls on"),
        "{}",
        daemon.log_tail()
    );
    check_tcp_token(&tcp);

    let mut client = daemon.client();
    client.ok(json!({"command": "subscribe"}));
    let alice = write_call_config(&run, "alice", None, "");
    let uri = format!("sip:bob@127.0.0.1:{port};transport=tls");

    // First call: rejected with 486 while ringing.
    let caller = {
        let (alice, uri) = (alice.clone(), uri.clone());
        std::thread::spawn(move || support::calls::lockphone_call(&alice, &uri, 3.0))
    };
    let started = client.wait_event("call-started", 15, |e| e["direction"] == "incoming");
    let first = started["call"].clone();
    std::thread::sleep(Duration::from_millis(1500));
    let status = client.ok(json!({"command": "status"}));
    assert_eq!(status["calls"][0]["state"], "incoming", "{status:#}");
    assert_eq!(status["auto_answer"], false);
    assert_eq!(
        client.error_code(json!({"command": "reject", "call": first, "status": 200})),
        "invalid-arguments"
    );
    client.ok(json!({"command": "reject", "call": first, "status": 486}));
    let ended = client.wait_event("call-ended", 10, |e| e["call"] == first);
    assert!(
        ended["summary"]["end_reason"]
            .as_str()
            .unwrap()
            .contains("486"),
        "{ended:#}"
    );
    let (status, events, stderr) = caller.join().unwrap();
    assert!(!status.success(), "the rejected call must fail: {stderr}");
    let caller_end = support::calls::summaries(&events)[0]["end_reason"].clone();
    assert!(caller_end.as_str().unwrap().contains("486"), "{caller_end}");

    // Second call: answered by the client after ringing.
    let caller = std::thread::spawn(move || support::calls::lockphone_call(&alice, &uri, 3.0));
    let started = client.wait_event("call-started", 15, |e| {
        e["direction"] == "incoming" && e["call"] != first
    });
    let second = started["call"].clone();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        client
            .names()
            .iter()
            .filter(|n| *n == "call-answered")
            .count(),
        0
    );
    client.ok(json!({"command": "answer", "call": second, "play": "silence"}));
    assert_eq!(
        client.error_code(json!({"command": "answer", "call": second})),
        "wrong-state"
    );
    let answered = client.wait_event("call-answered", 10, |e| e["call"] == second);
    assert!(answered["srtp_suite"].is_string(), "{answered:#}");
    let security = client.wait_event("call-security", 10, |e| e["call"] == second);
    assert_eq!(level(&security), "encrypted", "{security:#}");
    client.wait_event("call-stats", 10, |e| e["call"] == second);
    let ended = client.wait_event("call-ended", 15, |e| e["call"] == second);
    assert_eq!(ended["summary"]["end_reason"], "the far end hung up");
    let (status, _, stderr) = caller.join().unwrap();
    assert!(status.success(), "the answered call must succeed: {stderr}");
}

/// The TCP port: no token or a wrong one closes the connection; the right one opens it; a
/// client that says nothing is told so and disconnected after 10 s.
fn check_tcp_token(addr: &str) {
    let mut silent = std::net::TcpStream::connect(addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let silent = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut said = String::new();
        let _ = std::io::Read::read_to_string(&mut silent, &mut said);
        (started.elapsed(), said)
    });
    let connect = || {
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let reader = stream.try_clone().unwrap();
        let mut client = Client::from_parts(Box::new(reader), Box::new(stream));
        let hello = client.line();
        assert_eq!(hello["authenticate"], true, "{hello}");
        client
    };
    let mut anonymous = connect();
    assert_eq!(
        anonymous.error_code(json!({"command": "status"})),
        "unauthorized"
    );
    let mut wrong = connect();
    assert_eq!(
        wrong.error_code(json!({"command": "auth", "token": "0123456789abcdef-test-tokem"})),
        "unauthorized"
    );
    // Closed after the refusal.
    let mut rest = String::new();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"{\"command\":\"status\"}\n").unwrap();
    let _ = std::io::Read::read_to_string(&mut stream, &mut rest);
    assert_eq!(
        rest.lines().count(),
        2,
        "hello and the refusal, then closed: {rest}"
    );
    let mut client = connect();
    client.ok(json!({"command": "auth", "token": "0123456789abcdef-test-token"}));
    let status = client.ok(json!({"command": "status"}));
    assert_eq!(status["account"], "sip:bob@127.0.0.1");
    let (after, said) = silent.join().unwrap();
    assert!(
        after >= Duration::from_secs(9) && after < Duration::from_secs(25),
        "closed after {after:?}: {said}"
    );
    let last: Value = serde_json::from_str(said.lines().last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "unauthorized", "{said}");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("within 10 s"),
        "{said}"
    );
}

#[test]
fn blind_transfer_of_a_call_to_baresip_reaches_the_target_and_ends_our_leg() {
    let run = PeersRun::new();
    let bob = start_baresip(&run, "bob", &["--answer", "--duration", "60"]);
    let carol_port = free_tcp_port();
    let carol = write_call_config(&run, "carol", Some(carol_port), "");
    let carol = support::calls::Answerer::start(&run, &carol, carol_port, 1, 60);
    let config = write_account(&run, "alice", "register = false\ntransport = \"tls\"", "");
    let daemon = Daemon::start(&run, "alice", &config, &[]);
    let mut client = daemon.client();
    client.ok(json!({"command": "subscribe", "stats": false}));
    let uri = format!("sip:bob@127.0.0.1:{};transport=tls", bob.tls_port);
    let call = client.ok(json!({"command": "call", "uri": uri}))["call"].clone();
    client.wait_event("call-security", 20, |e| e["call"] == call);
    let target = format!("sip:carol@127.0.0.1:{carol_port};transport=tls");
    client.ok(json!({"command": "transfer", "call": call, "target": target}));
    assert_eq!(
        client.error_code(json!({"command": "transfer", "call": call, "target": target})),
        "wrong-state",
        "a second transfer while the first is under way"
    );
    let outcome = client.wait_event("call-transfer", 30, |e| {
        e["state"] == "succeeded" || e["state"] == "failed"
    });
    assert_eq!(
        outcome["state"],
        "succeeded",
        "{outcome:#}\n{}",
        daemon.log_tail()
    );
    let states: Vec<String> = client
        .events
        .iter()
        .filter(|e| e["event"] == "call-transfer")
        .map(|e| e["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        states.first().map(String::as_str),
        Some("accepted"),
        "{states:?}"
    );
    let ended = client.wait_event("call-ended", 10, |e| e["call"] == call);
    assert_eq!(ended["summary"]["end_reason"], "hung up", "{ended:#}");
    // carol got bob's call, which goes on (bob hangs up only at the end of its run).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = carol.events();
        if !support::calls::named(&events, "call-security").is_empty() {
            break events;
        }
        assert!(std::time::Instant::now() < deadline, "{events:#?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let started = support::calls::named(&events, "call-started");
    assert!(
        started[0]["peer"].as_str().unwrap().contains("bob"),
        "{started:#?}"
    );
    assert_eq!(
        support::calls::security_levels(&events),
        ["encrypted"],
        "{events:#?}"
    );
}

#[test]
fn register_and_unregister_at_kamailio_through_the_socket() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "cert"]);
    let config = write_account(
        &run,
        "alice",
        &format!("registrar = \"sip:127.0.0.1:{port}\"\n[account.auth]\nmethod = \"none\""),
        "",
    );
    let daemon = Daemon::start(&run, "alice", &config, &[]);
    let mut client = daemon.client();
    let status = client.ok(json!({"command": "status"}));
    assert_eq!(
        status["registration"]["state"], "unregistered",
        "{status:#}"
    );
    client.ok(json!({"command": "subscribe"}));
    client.ok(json!({"command": "register"}));
    let registered = client.wait_event("registered", 15, |_| true);
    let connected = &client.events[client.position("connected")];
    assert_eq!(
        connected["security"]["peer_verified"], true,
        "{connected:#}"
    );
    let status = client.ok(json!({"command": "status"}));
    let registration = &status["registration"];
    assert_eq!(registration["state"], "registered", "{status:#}");
    assert_eq!(registration["contact"], registered["contact"]);
    assert_eq!(
        registration["registrar"],
        format!("sip:127.0.0.1:{port};transport=tls")
    );
    client.ok(json!({"command": "unregister"}));
    client.wait_event("unregistered", 15, |_| true);
    let status = client.ok(json!({"command": "status"}));
    assert_eq!(
        status["registration"]["state"], "unregistered",
        "{status:#}"
    );
    assert!(client.position("registering") < client.position("registered"));
}
