//! Calls between Lockphone and the kit's SIPp (behind stunnel TLS): SDES suites both ways,
//! CUCM's `Call-Info ... security=` in a 200 OK and in a later UPDATE, downgrade re-INVITEs
//! under the `refuse` and `alert` policies, and the refusals of a plain RTP offer and of SDES
//! over a TLS connection whose client was not verified. SIPp sends no media: nothing here
//! looks at media statistics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::calls::{
    Answerer, level, lockphone_call, named, security_levels, sipp_uac, start_sipp_uas,
    stop_sipp_uas, summaries, write_call_config,
};
use support::peers::{PeersRun, free_tcp_port};

/// The tag of each suite in the kit's UAC offers (uac-sdes.xml, uac-sdes-six.xml).
const SIPP_OFFERS: [(&str, u32, &str); 5] = [
    ("AEAD_AES_256_GCM", 1, "uac-sdes.xml"),
    ("AEAD_AES_128_GCM", 2, "uac-sdes.xml"),
    ("AES_CM_128_HMAC_SHA1_80", 3, "uac-sdes.xml"),
    ("AES_CM_128_HMAC_SHA1_32", 4, "uac-sdes.xml"),
    ("AES_256_CM_HMAC_SHA1_80", 5, "uac-sdes-six.xml"),
];

fn sip_uri(port: u16) -> String {
    format!("sip:anything@127.0.0.1:{port};transport=tls")
}

/// An answerer `bob` on a free port with these `[account.calls]` lines.
fn answerer(run: &PeersRun, calls_extra: &str, calls: u32) -> Answerer {
    let port = free_tcp_port();
    let config = write_call_config(run, "bob", Some(port), calls_extra);
    Answerer::start(run, &config, port, calls, 60)
}

#[test]
fn lockphone_answers_sipp_sdes_offers_of_each_suite_alone_and_picks_the_first_of_several() {
    let run = PeersRun::new();
    let bob = answerer(&run, "", SIPP_OFFERS.len() as u32 + 1);
    for (i, (suite, tag, scenario)) in SIPP_OFFERS.iter().enumerate() {
        let sipp = sipp_uac(
            &run,
            bob.port,
            true,
            &["--scenario", scenario, "--offer", suite],
        );
        assert!(
            sipp.status.success(),
            "SIPp offering {suite} alone: {}\n{}",
            sipp.describe(),
            bob.log_tail()
        );
        // SIPp saw our answer echo its tag with that suite.
        assert!(
            sipp.log.contains(&format!("tag={tag} suite={suite}")),
            "SIPp's log of our answer to {suite}: {}",
            sipp.log
        );
        let events = bob.wait_ended(i + 1, 10);
        let summary = summaries(&events)[i];
        assert_eq!(summary["srtp_suite"], *suite, "{summary:#}");
        assert_eq!(summary["codec"], "pcmu", "{summary:#}");
        assert_eq!(summary["end_reason"], "the far end hung up", "{summary:#}");
        assert_eq!(summary["reached_encrypted"], true, "{summary:#}");
        assert_eq!(level(&summary["verdict"]), "encrypted", "{summary:#}");
        assert_eq!(summary["verdict"]["lock"], true, "{summary:#}");
    }
    // The full offer (tags 1..4): the first offered suite we support, with its tag.
    let sipp = sipp_uac(&run, bob.port, true, &[]);
    assert!(sipp.status.success(), "{}", sipp.describe());
    assert!(
        sipp.log.contains("tag=1 suite=AEAD_AES_256_GCM"),
        "{}",
        sipp.log
    );
    let (status, events) = bob.finish(10);
    assert!(status.success(), "lockphone answer: {status}");
    assert_eq!(
        summaries(&events)[SIPP_OFFERS.len()]["srtp_suite"],
        "AEAD_AES_256_GCM"
    );
    // Every incoming call came over TLS with alice's verified client certificate.
    for started in named(&events, "call-started") {
        assert_eq!(started["direction"], "incoming");
        assert_eq!(started["security"]["transport"], "TLS");
        assert_eq!(started["security"]["peer_verified"], true, "{started:#}");
    }
}

#[test]
fn lockphone_calls_sipp_uas_for_several_suites() {
    let run = PeersRun::new();
    let alice = write_call_config(&run, "alice", None, "");
    for suite in [
        "AEAD_AES_256_GCM",
        "AEAD_AES_128_GCM",
        "AES_256_CM_HMAC_SHA1_80",
        "AES_CM_128_HMAC_SHA1_32",
    ] {
        let port = start_sipp_uas(&run, &["--suite", suite, "--max-calls", "1"]);
        let (status, events, stderr) = lockphone_call(&alice, &sip_uri(port), 0.3);
        stop_sipp_uas(&run);
        assert!(
            status.success(),
            "call to SIPp UAS ({suite}): {status}\n{events:#?}\n{stderr}"
        );
        let answered = named(&events, "call-answered");
        assert_eq!(answered.len(), 1, "{events:#?}");
        assert_eq!(answered[0]["srtp_suite"], suite);
        assert_eq!(answered[0]["codec"], "pcmu");
        let summary = summaries(&events)[0];
        assert_eq!(summary["srtp_suite"], suite);
        assert_eq!(summary["end_reason"], "hung up", "{summary:#}");
        assert_eq!(level(&summary["verdict"]), "encrypted", "{summary:#}");
        assert_eq!(summary["verdict"]["lock"], true);
    }
}

#[test]
fn lockphone_call_fails_clearly_when_sipp_uas_wants_a_suite_we_did_not_offer() {
    let run = PeersRun::new();
    let alice = write_call_config(
        &run,
        "alice",
        None,
        "srtp_suites = [\"AEAD_AES_256_GCM\"]\n",
    );
    // A conforming UAS that only takes AES_CM_128_HMAC_SHA1_80: 488.
    let port = start_sipp_uas(&run, &["--suite", "AES_CM_128_HMAC_SHA1_80"]);
    let (status, events, stderr) = lockphone_call(&alice, &sip_uri(port), 0.3);
    stop_sipp_uas(&run);
    assert!(!status.success(), "{events:#?}\n{stderr}");
    assert!(named(&events, "call-answered").is_empty(), "{events:#?}");
    let summary = summaries(&events)[0];
    let reason = summary["end_reason"].as_str().unwrap();
    // The status and SIPp's own explanation (its Warning).
    assert!(
        reason.contains("488") && reason.contains("AES_CM_128_HMAC_SHA1_80"),
        "{reason}"
    );
    assert!(summary["verdict"].is_null(), "{summary:#}");
    assert_eq!(summary["reached_encrypted"], false);

    // A non-conforming UAS that answers with that suite anyway: we reject its answer.
    let uas_key = "dGhpcyBpcyBub3QgYSBzZWNyZXQga2V5ISEhISEh";
    let port = start_sipp_uas(
        &run,
        &[
            "--scenario",
            "uas-sdes-unoffered.xml",
            "--suite",
            "AES_CM_128_HMAC_SHA1_80",
            "--key",
            uas_key,
        ],
    );
    let (status, events, stderr) = lockphone_call(&alice, &sip_uri(port), 0.3);
    stop_sipp_uas(&run);
    assert!(!status.success(), "{events:#?}\n{stderr}");
    assert!(named(&events, "call-answered").is_empty(), "{events:#?}");
    let failed = named(&events, "call-failed");
    assert_eq!(failed.len(), 1, "{events:#?}");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("AES_CM_128_HMAC_SHA1_80") && reason.contains("not offered"),
        "{reason}"
    );
    assert!(
        !stderr.contains(uas_key),
        "the far end's key in our log: {stderr}"
    );
    assert!(
        stderr
            .match_indices("inline:")
            .all(|(at, _)| stderr[at..].starts_with("inline:<redacted>")),
        "a key in the log: {stderr}"
    );
    assert!(security_levels(&events).is_empty(), "{events:#?}");
}

#[test]
fn cucm_call_info_in_the_200_ok_sets_the_remote_side_of_the_caller_verdict() {
    let run = PeersRun::new();
    let alice = write_call_config(&run, "alice", None, "cisco_sis = true\n");
    for (remote, expected_level, lock) in [
        ("Authenticated", "authenticated", false),
        ("Encrypted", "encrypted", true),
    ] {
        let security = format!("remote_security={remote}");
        let port = start_sipp_uas(
            &run,
            &[
                "--scenario",
                "uas-sdes-callinfo.xml",
                "--suite",
                "AEAD_AES_128_GCM",
                "--set",
                &security,
            ],
        );
        let (status, events, stderr) = lockphone_call(&alice, &sip_uri(port), 0.3);
        stop_sipp_uas(&run);
        assert!(status.success(), "{events:#?}\n{stderr}");
        let verdicts = named(&events, "call-security");
        assert!(!verdicts.is_empty(), "{events:#?}");
        let verdict = &verdicts[0]["verdict"];
        assert_eq!(
            level(verdict),
            expected_level,
            "security={remote}: {verdict:#}"
        );
        assert_eq!(verdict["lock"], lock, "security={remote}: {verdict:#}");
        let summary = summaries(&events)[0];
        assert_eq!(level(&summary["verdict"]), expected_level, "{summary:#}");
        assert_eq!(summary["srtp_suite"], "AEAD_AES_128_GCM");
        assert!(named(&events, "call-downgrade").is_empty(), "{events:#?}");
    }
}

#[test]
fn cucm_update_with_call_info_not_authenticated_lowers_the_callee_verdict() {
    let run = PeersRun::new();
    let bob = answerer(&run, "cisco_sis = true\n", 1);
    let sipp = sipp_uac(
        &run,
        bob.port,
        true,
        &[
            "--scenario",
            "uac-sdes-update-callinfo.xml",
            "--set",
            "remote_security=NotAuthenticated",
        ],
    );
    assert!(
        sipp.status.success(),
        "{}\n{}",
        sipp.describe(),
        bob.log_tail()
    );
    assert!(sipp.log.contains("UPDATE answered: 200"), "{}", sipp.log);
    let (status, events) = bob.finish(10);
    assert!(status.success(), "{status}");
    let levels = security_levels(&events);
    assert_eq!(
        levels.first().map(String::as_str),
        Some("encrypted"),
        "{events:#?}"
    );
    assert_eq!(
        levels.last().map(String::as_str),
        Some("notsecure"),
        "the UPDATE's Call-Info did not lower the verdict: {events:#?}"
    );
    let lowered = named(&events, "call-security").last().copied().unwrap();
    assert_eq!(lowered["verdict"]["lock"], false);
    assert_eq!(named(&events, "call-downgrade").len(), 1, "{events:#?}");
    let summary = summaries(&events)[0];
    assert_eq!(level(&summary["verdict"]), "notsecure", "{summary:#}");
    assert_eq!(summary["reached_encrypted"], true);
    assert_eq!(summary["end_reason"], "the far end hung up");
}

/// A downgrade re-INVITE (plain RTP/AVP) to an answerer with `srtp = "optional"` (so that only
/// the downgrade policy decides) and this `on_downgrade`; SIPp's log and Lockphone's events.
fn downgrade_reinvite(policy: &str) -> (String, Vec<Value>) {
    let run = PeersRun::new();
    let bob = answerer(
        &run,
        &format!("srtp = \"optional\"\non_downgrade = \"{policy}\"\n"),
        1,
    );
    let sipp = sipp_uac(
        &run,
        bob.port,
        true,
        &["--scenario", "uac-sdes-reinvite-plain.xml"],
    );
    // Success for SIPp includes the BYE after the re-INVITE being answered: the call was up.
    assert!(
        sipp.status.success(),
        "{}\n{}",
        sipp.describe(),
        bob.log_tail()
    );
    let (status, events) = bob.finish(10);
    assert!(status.success(), "{status}");
    let summary = summaries(&events)[0];
    assert_eq!(summary["end_reason"], "the far end hung up", "{summary:#}");
    (sipp.log, events)
}

#[test]
fn downgrade_reinvite_is_refused_with_488_under_refuse_and_the_call_goes_on() {
    let (log, events) = downgrade_reinvite("refuse");
    assert!(log.contains("re-INVITE refused: 488"), "{log}");
    assert!(!log.contains("re-INVITE accepted"), "{log}");
    let downgrades = named(&events, "call-downgrade");
    assert_eq!(downgrades.len(), 1, "{events:#?}");
    assert_eq!(downgrades[0]["action"], "refuse");
    // The refused downgrade never shows: the lock is not even briefly lost.
    assert_eq!(security_levels(&events), ["encrypted"], "{events:#?}");
    // The call stayed as it was: SRTP with the first suite, Encrypted.
    let summary = summaries(&events)[0];
    assert_eq!(summary["srtp_suite"], "AEAD_AES_256_GCM", "{summary:#}");
    assert_eq!(level(&summary["verdict"]), "encrypted", "{summary:#}");
    assert_eq!(summary["verdict"]["lock"], true);
}

#[test]
fn downgrade_reinvite_is_accepted_with_an_event_under_alert() {
    let (log, events) = downgrade_reinvite("alert");
    assert!(log.contains("re-INVITE accepted: 200"), "{log}");
    let downgrades = named(&events, "call-downgrade");
    assert_eq!(downgrades.len(), 1, "{events:#?}");
    assert_eq!(downgrades[0]["action"], "alert");
    let levels = security_levels(&events);
    assert_eq!(levels, ["encrypted", "notsecure"], "{events:#?}");
    let summary = summaries(&events)[0];
    assert!(summary["srtp_suite"].is_null(), "{summary:#}");
    assert_eq!(level(&summary["verdict"]), "notsecure", "{summary:#}");
    assert_eq!(summary["verdict"]["lock"], false);
    assert_eq!(summary["reached_encrypted"], true);
}

#[test]
fn plain_offer_under_mandatory_and_sdes_from_an_unverified_client_get_488() {
    let run = PeersRun::new();
    let bob = answerer(&run, "", 2);
    // Plain RTP/AVP without any a=crypto line.
    let sipp = sipp_uac(
        &run,
        bob.port,
        true,
        &[
            "--scenario",
            "uac-sdes-refused.xml",
            "--proto",
            "RTP/AVP",
            "--offer",
            "none",
        ],
    );
    assert!(
        sipp.status.success(),
        "{}\n{}",
        sipp.describe(),
        bob.log_tail()
    );
    assert!(sipp.log.contains("refused: 488"), "{}", sipp.log);
    let events = bob.wait_ended(1, 10);
    let reason = summaries(&events)[0]["end_reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("488"), "{reason}");
    // SDES offered by a TLS client without a certificate: the keys would travel over TLS
    // whose far end nobody verified.
    let sipp = sipp_uac(
        &run,
        bob.port,
        false,
        &["--scenario", "uac-sdes-refused.xml"],
    );
    assert!(
        sipp.status.success(),
        "{}\n{}",
        sipp.describe(),
        bob.log_tail()
    );
    let (status, events) = bob.finish(10);
    // Refused calls make `answer` exit non-zero.
    assert!(!status.success(), "{events:#?}");
    let summaries = summaries(&events);
    assert_eq!(summaries.len(), 2, "{events:#?}");
    for summary in &summaries {
        assert!(summary["verdict"].is_null(), "{summary:#}");
        assert!(summary["srtp_suite"].is_null(), "{summary:#}");
    }
    let reason = summaries[1]["end_reason"].as_str().unwrap();
    assert!(
        reason.contains("488") && reason.contains("verified"),
        "{reason}"
    );
    let started = named(&events, "call-started");
    assert_eq!(
        started[1]["security"]["peer_verified"], false,
        "{:#}",
        started[1]
    );
}
