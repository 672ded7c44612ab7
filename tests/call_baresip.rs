//! Secure calls between Lockphone and the kit's real baresip 1.0 (and through kamailio), with
//! the kit's verifier proving from a packet capture that SIP travelled only inside TLS and that
//! the SRTP decrypts with the negotiated keys, and that the far end recorded our audio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::baresip::{
    Account, baresip_log, event, rtp_range, start_baresip, start_capture, stop_capture, verify_call,
};
use support::json_lines;
use support::peers::{PeersRun, free_tcp_port};

/// Lockphone calls baresip directly over TLS offering only `suite`; baresip records.
fn call_baresip_with(suite: &str, codec: &str, baresip_codec: &str) {
    let run = PeersRun::new();
    let bob = start_baresip(
        &run,
        "bob",
        &["--answer", "--duration", "60", "--codecs", baresip_codec],
    );
    let bob_tls = bob.tls_port;
    let pcap = start_capture(&run, &[bob_tls], &bob.rtp_ports, 60);
    let alice = Account::write(
        &run,
        "alice",
        "register = false",
        &format!("srtp_suites = [\"{suite}\"]\ncodecs = [\"{codec}\"]"),
    );
    let uri = format!("sip:bob@127.0.0.1:{bob_tls};transport=tls");
    let out = alice.run(
        &[
            "call",
            &uri,
            "--duration",
            "4",
            "--play",
            "tone:1000",
            "--require-secure",
        ],
        40,
    );
    stop_capture(&run);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events = json_lines(&out.stdout);
    assert!(out.status.success(), "call failed: {stderr}\n{events:#?}");
    let answered = event(&events, "call-answered").expect("answered");
    assert_eq!(answered["srtp_suite"], suite);
    assert_eq!(answered["codec"], codec);
    let ended = event(&events, "call-ended").expect("ended");
    let summary = &ended["summary"];
    assert_eq!(summary["verdict"]["level"], "encrypted", "{summary:#}");
    assert_eq!(summary["verdict"]["lock"], true, "{summary:#}");
    assert!(
        summary["media"]["stats"]["packets_received"]
            .as_u64()
            .unwrap()
            > 100,
        "{summary:#}"
    );
    let failures = summary["media"]["stats"]["srtp_auth_failures"]
        .as_u64()
        .unwrap();
    if suite.ends_with("_32") {
        // baresip 1.0 (libre's own SRTP) tags SRTCP with 32 bits for the _32 suites where
        // RFC 3711/4568 want 80: its RTCP reports fail our check and are dropped (counted),
        // the RTP all authenticates.
        let rtcp = summary["media"]["stats"]["rtcp_received"].as_u64().unwrap();
        assert!(
            failures <= 3,
            "{failures} failures, {rtcp} RTCP: {summary:#}"
        );
    } else {
        assert_eq!(failures, 0, "{summary:#}");
    }
    // The keys never reach the logs.
    for line in std::fs::read_to_string(baresip_log(&run, "bob"))
        .unwrap()
        .lines()
    {
        if let Some(key) = line.split("inline:").nth(1) {
            let key: String = key
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '|')
                .collect();
            assert!(
                !stderr.contains(&key),
                "an SDES key appears in Lockphone's log"
            );
        }
    }
    let verdict = verify_call(
        &pcap,
        &run.dir().join("bob/rec"),
        &[&baresip_log(&run, "bob")],
    );
    assert!(verdict.contains("VERDICT: PASS"), "{verdict}");
}

#[test]
fn lockphone_calls_baresip_aead_aes_256_gcm_opus() {
    call_baresip_with("AEAD_AES_256_GCM", "opus", "opus/48000/2");
}

#[test]
fn lockphone_calls_baresip_aead_aes_128_gcm() {
    call_baresip_with("AEAD_AES_128_GCM", "pcmu", "pcmu");
}

#[test]
fn lockphone_calls_baresip_aes_cm_128_hmac_sha1_80() {
    call_baresip_with("AES_CM_128_HMAC_SHA1_80", "pcmu", "pcmu");
}

#[test]
fn lockphone_calls_baresip_aes_cm_128_hmac_sha1_32() {
    call_baresip_with("AES_CM_128_HMAC_SHA1_32", "pcma", "pcma");
}

/// Waits until something listens on `port`.
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "lockphone never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn baresip_calls_lockphone_over_tls_and_lockphone_records() {
    let run = PeersRun::new();
    let port = free_tcp_port();
    let bob = Account::write(
        &run,
        "bob",
        "register = false",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let recording = run.dir().join("lockphone-rec.wav");
    let recording_text = recording.to_string_lossy().into_owned();
    let answer = bob.spawn(
        &[
            "answer",
            "--calls",
            "1",
            "--timeout",
            "40",
            "--record",
            &recording_text,
            "--play",
            "tone:700",
        ],
        50,
    );
    wait_listening(port);
    let rtp = rtp_range();
    let pcap = start_capture(&run, &[port], &rtp, 60);
    let target = format!("bob@127.0.0.1:{port}");
    start_baresip(
        &run,
        "alice",
        &[
            "--dial",
            &target,
            "--rtp-ports",
            &rtp,
            "--duration",
            "6",
            "--codecs",
            "opus/48000/2",
        ],
    );
    let out = answer.wait_with_output().unwrap();
    stop_capture(&run);
    let events = json_lines(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "answer failed: {stderr}\n{events:#?}");
    let started = event(&events, "call-started").expect("an incoming call");
    assert_eq!(started["direction"], "incoming");
    assert_eq!(
        started["security"]["peer_verified"], true,
        "baresip's client certificate is verified"
    );
    let summary = &event(&events, "call-ended").expect("ended")["summary"];
    assert_eq!(summary["verdict"]["level"], "encrypted", "{summary:#}");
    assert_eq!(
        summary["srtp_suite"], "AES_CM_128_HMAC_SHA1_80",
        "baresip offers only this suite"
    );
    let verdict = verify_call(&pcap, &recording, &[&baresip_log(&run, "alice")]);
    assert!(verdict.contains("VERDICT: PASS"), "{verdict}");
}

#[test]
fn call_through_kamailio_with_digest_has_an_unknown_remote_side() {
    let run = PeersRun::new();
    let kamailio = run.start_kamailio(&["--auth", "digest"]);
    let registrar = format!("127.0.0.1:{kamailio}");
    let bob = start_baresip(
        &run,
        "bob",
        &["--answer", "--register", &registrar, "--duration", "60"],
    );
    // bob is called by name through kamailio: wait until his REGISTER passed digest auth.
    run.wait_for_kamailio_log(&["auth ok: digest user bob"], Duration::from_secs(20));
    let pcap = start_capture(&run, &[kamailio], &bob.rtp_ports, 60);
    let alice = Account::write(
        &run,
        "alice",
        &format!(
            "registrar = \"sip:127.0.0.1:{kamailio}\"\n[account.auth]\nmethod = \"digest\"\npassword = \"alicepw\""
        ),
        "codecs = [\"pcmu\"]",
    );
    let out = alice.run(&["call", "sip:bob@127.0.0.1", "--duration", "4"], 40);
    stop_capture(&run);
    let events = json_lines(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "call failed: {stderr}\n{events:#?}");
    let summary = &event(&events, "call-ended").expect("ended")["summary"];
    assert_eq!(
        summary["verdict"]["lock"], false,
        "no lock without a known remote side: {summary:#}"
    );
    let reasons = summary["verdict"]["reasons"].to_string();
    assert!(reasons.contains("remote side unknown"), "{reasons}");
    assert!(
        !stderr.contains("alicepw"),
        "the password leaked into the log"
    );
    let log = run.kamailio_log();
    assert!(
        log.contains("INVITE"),
        "the INVITE went through kamailio: {log}"
    );
    let verdict = verify_call(
        &pcap,
        &run.dir().join("bob/rec"),
        &[&baresip_log(&run, "bob")],
    );
    assert!(verdict.contains("VERDICT: PASS"), "{verdict}");
}

#[test]
fn baresip_answer_with_a_suite_we_did_not_offer_is_refused() {
    let run = PeersRun::new();
    let bob_tls = start_baresip(&run, "bob", &["--answer", "--duration", "60"]).tls_port;
    let alice = Account::write(
        &run,
        "alice",
        "register = false",
        "srtp_suites = [\"AES_256_CM_HMAC_SHA1_80\"]",
    );
    let uri = format!("sip:bob@127.0.0.1:{bob_tls};transport=tls");
    let out = alice.run(&["call", &uri, "--duration", "3", "--require-secure"], 30);
    let events = json_lines(&out.stdout);
    assert!(!out.status.success(), "{events:#?}");
    let failed = event(&events, "call-failed").expect("a call-failed event");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("AES_CM_128_HMAC_SHA1_80"), "{reason}");
    let summary = &event(&events, "call-ended").expect("ended")["summary"];
    let end = summary["end_reason"].as_str().unwrap();
    assert!(
        end.starts_with("failed:") && end.contains("AES_CM_128_HMAC_SHA1_80"),
        "{end}"
    );
    assert!(
        event(&events, "call-answered").is_none(),
        "no media was started"
    );
}

#[test]
fn plain_rtp_offer_gets_488_under_mandatory_srtp() {
    let run = PeersRun::new();
    let port = free_tcp_port();
    let bob = Account::write(
        &run,
        "bob",
        "register = false",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let answer = bob.spawn(&["answer", "--calls", "1", "--timeout", "25"], 35);
    wait_listening(port);
    let target = format!("bob@127.0.0.1:{port}");
    start_baresip(
        &run,
        "alice",
        &["--dial", &target, "--duration", "20", "--menc", "none"],
    );
    let out = answer.wait_with_output().unwrap();
    let events = json_lines(&out.stdout);
    let summary = &event(&events, "call-ended").expect("ended")["summary"];
    let reason = summary["end_reason"].as_str().unwrap();
    assert!(reason.contains("488"), "{reason}");
    let log = std::fs::read_to_string(baresip_log(&run, "alice")).unwrap();
    assert!(
        log.contains("SIP/2.0 488"),
        "baresip got the 488: {log}\nLockphone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        log.contains("SRTP is mandatory"),
        "with the reason in a Warning: {log}"
    );
}

#[test]
fn sdes_over_tcp_is_refused_before_anything_is_sent() {
    let run = PeersRun::new();
    let bob_tls = start_baresip(&run, "bob", &["--answer", "--duration", "30"]).tls_port;
    let alice = Account::write(&run, "alice", "register = false\ntransport = \"tcp\"", "");
    // The account may not carry a client certificate over TCP: write one without it.
    let text = std::fs::read_to_string(&alice.path).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("client_"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&alice.path, text).unwrap();
    let uri = format!("sip:bob@127.0.0.1:{};transport=tcp", bob_tls - 1);
    let out = alice.run(&["call", &uri, "--duration", "2"], 20);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not verified TLS") || stderr.contains("verified TLS"),
        "{stderr}"
    );
    let log = std::fs::read_to_string(baresip_log(&run, "bob")).unwrap();
    assert!(
        !log.contains("INVITE sip:bob"),
        "no INVITE may leave with SDES keys over TCP"
    );
}

#[test]
fn plain_rtp_under_optional_policy_is_not_secure_with_the_reason() {
    let run = PeersRun::new();
    let bob_tls = start_baresip(
        &run,
        "bob",
        &["--answer", "--duration", "60", "--menc", "none"],
    )
    .tls_port;
    let alice = Account::write(
        &run,
        "alice",
        "register = false",
        "srtp = \"optional\"\ncodecs = [\"pcmu\"]",
    );
    let uri = format!("sip:bob@127.0.0.1:{bob_tls};transport=tls");
    let out = alice.run(&["call", &uri, "--duration", "3", "--require-secure"], 30);
    let events = json_lines(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(6),
        "--require-secure fails a plain call: {events:#?}"
    );
    let answered = event(&events, "call-answered").expect("answered");
    assert!(answered["srtp_suite"].is_null(), "{answered}");
    let summary = &event(&events, "call-ended").expect("ended")["summary"];
    assert_eq!(summary["verdict"]["level"], "not_secure", "{summary:#}");
    assert_eq!(summary["verdict"]["media"], "not_secure", "{summary:#}");
    assert_eq!(summary["verdict"]["lock"], false);
    let reasons = summary["verdict"]["reasons"].to_string();
    assert!(
        reasons.contains("RTP"),
        "the reason names plain RTP: {reasons}"
    );
    assert!(
        summary["media"]["stats"]["packets_received"]
            .as_u64()
            .unwrap()
            > 50,
        "{summary:#}"
    );
}

#[test]
fn callee_with_an_untrusted_certificate_is_refused_before_any_invite() {
    let run = PeersRun::new();
    let rogue = run.pki().join("rogue.pem");
    let rogue = rogue.to_string_lossy().into_owned();
    let bob_tls = start_baresip(
        &run,
        "bob",
        &["--answer", "--duration", "30", "--cert", &rogue],
    )
    .tls_port;
    let alice = Account::write(&run, "alice", "register = false", "");
    let uri = format!("sip:bob@127.0.0.1:{bob_tls};transport=tls");
    let out = alice.run(&["call", &uri, "--duration", "2"], 20);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a TLS refusal exits 4: {stderr}"
    );
    assert!(
        stderr.contains("server certificate not trusted"),
        "{stderr}"
    );
    let log = std::fs::read_to_string(baresip_log(&run, "bob")).unwrap();
    assert!(
        !log.contains("INVITE sip:bob"),
        "no INVITE may reach an unverified server"
    );
}

#[test]
fn incoming_call_arrives_on_the_registration_connection() {
    let run = PeersRun::new();
    let kamailio = run.start_kamailio(&["--auth", "digest"]);
    let bob = Account::write(
        &run,
        "bob",
        &format!(
            "registrar = \"sip:127.0.0.1:{kamailio}\"\n[account.auth]\nmethod = \"digest\"\npassword = \"bobpw\""
        ),
        "codecs = [\"pcmu\"]",
    );
    let answer = bob.spawn(
        &[
            "answer",
            "--calls",
            "1",
            "--timeout",
            "40",
            "--play",
            "tone:700",
        ],
        50,
    );
    // Wait until bob is registered before alice dials him by name.
    run.wait_for_kamailio_log(&["REGISTER", "auth ok"], Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    let registrar = format!("127.0.0.1:{kamailio}");
    start_baresip(
        &run,
        "alice",
        &["--register", &registrar, "--dial", "bob", "--duration", "8"],
    );
    let out = answer.wait_with_output().unwrap();
    let events = json_lines(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "answer failed: {stderr}\n{events:#?}");
    let started = event(&events, "call-started").expect("an incoming call");
    assert_eq!(started["direction"], "incoming");
    let summary = &event(&events, "call-ended").expect("ended")["summary"];
    assert_eq!(
        summary["srtp_suite"], "AES_CM_128_HMAC_SHA1_80",
        "{summary:#}"
    );
    assert_eq!(summary["reached_encrypted"], true, "{summary:#}");
    assert_eq!(
        summary["verdict"]["lock"], false,
        "the remote side is unknown through the proxy"
    );
    assert!(
        summary["media"]["stats"]["packets_received"]
            .as_u64()
            .unwrap()
            > 100,
        "{summary:#}"
    );
    assert!(
        !stderr.contains("bobpw"),
        "the password leaked into the log"
    );
    // The ACK and baresip's BYE came back through kamailio on the Record-Route we echoed.
    assert_eq!(summary["end_reason"], "the far end hung up", "{summary:#}");
}
