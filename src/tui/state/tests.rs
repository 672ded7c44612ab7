//! The reducer from keys and events to state and actions.

use lockphone_sip::message::Transport;

use super::*;
use crate::call::CallSummary;
use crate::tls::{CertificateSummary, ConnectionSecurity, TrustBasis};
use crate::trust::TrustDecision as TrustChoice;
use crate::tui::input::Key;
use crate::ua::Event;
use crate::verdict::{DowngradePolicy, RemoteSecurity, SecurityLevel, Verdict};

pub(crate) fn app() -> App {
    App::new(
        AccountInfo {
            name: "alice".to_owned(),
            aor: "sip:alice@127.0.0.1".to_owned(),
            registers: false,
            listening: Some("127.0.0.1:5071".to_owned()),
        },
        false,
        "test tone",
    )
}

pub(crate) fn verified_tls() -> ConnectionSecurity {
    ConnectionSecurity {
        transport: Transport::Tls,
        tls_version: Some("TLSv1_3".to_owned()),
        cipher_suite: Some("TLS13_AES_256_GCM_SHA384".to_owned()),
        peer_verified: true,
        trusted_by: Some(TrustBasis::CertificateAuthority),
        verified_name: Some("127.0.0.1".to_owned()),
        peer_certificate_sha256: None,
        client_certificate_presented: true,
        fips: false,
        revocation: crate::tls::revocation::RevocationStatus::NotChecked,
        common_criteria: false,
    }
}

pub(crate) fn verdict(level: SecurityLevel, remote: RemoteSecurity) -> Verdict {
    Verdict {
        level,
        signalling: SecurityLevel::Encrypted,
        media: level,
        remote,
        lock: level == SecurityLevel::Encrypted && remote.level().is_some(),
        reasons: if remote == RemoteSecurity::Unknown {
            vec!["the remote side is unknown: the far end did not report".to_owned()]
        } else {
            Vec::new()
        },
        srtp_suite: Some("AEAD_AES_256_GCM".to_owned()),
        transport: "TLS".to_owned(),
        tls_version: Some("TLSv1.3".to_owned()),
        trusted_by: Some(TrustBasis::CertificateAuthority),
        fips: false,
    }
}

pub(crate) fn certificate() -> CertificateSummary {
    CertificateSummary {
        subject: "CN=127.0.0.1".to_owned(),
        issuer: "CN=Peers Test CA".to_owned(),
        not_before: "2026-01-01".to_owned(),
        not_after: "2027-01-01".to_owned(),
        sha256: "AB:CD:EF".to_owned(),
        subject_alt_names: vec!["IP:127.0.0.1".to_owned()],
        reason: "unknown issuer".to_owned(),
    }
}

/// A call 1 to bob, answered with opus and AEAD_AES_256_GCM, Encrypted with the lock.
pub(crate) fn in_call() -> App {
    let mut app = app();
    for key in "dsip:bob@127.0.0.1".chars() {
        app.update(Input::Key(Key::Char(key)));
    }
    assert_eq!(
        app.update(Input::Key(Key::Enter)),
        [Action::Dial("sip:bob@127.0.0.1".to_owned())]
    );
    let call = CallId(1);
    app.update(Input::Dialed {
        uri: "sip:bob@127.0.0.1".to_owned(),
        result: Ok(call),
    });
    for event in [
        Event::CallStarted {
            call,
            direction: "outgoing".to_owned(),
            peer: "sip:bob@127.0.0.1".to_owned(),
            security: verified_tls(),
        },
        Event::CallRinging { call },
        Event::CallAnswered {
            call,
            codec: "opus".to_owned(),
            srtp_suite: Some("AEAD_AES_256_GCM".to_owned()),
        },
        Event::CallSecurity {
            call,
            verdict: verdict(
                SecurityLevel::Encrypted,
                RemoteSecurity::Known(SecurityLevel::Encrypted),
            ),
        },
    ] {
        app.update(Input::Phone(event));
    }
    app
}

/// Call 1 (to bob) ended: hung up after 2 s, never verdicted.
fn bob_hung_up() -> Input {
    Input::Phone(Event::CallEnded {
        call: CallId(1),
        summary: Box::new(CallSummary {
            call: CallId(1),
            peer: "sip:bob@127.0.0.1".to_owned(),
            direction: "outgoing",
            end_reason: "hung up".to_owned(),
            duration_secs: 2.0,
            verdict: None,
            reached_encrypted: true,
            srtp_suite: None,
            codec: None,
            media: None,
        }),
    })
}

fn keys(app: &mut App, keys: &[Key]) -> Vec<Action> {
    keys.iter()
        .flat_map(|k| app.update(Input::Key(*k)))
        .collect()
}

#[test]
fn dialing_records_history_and_the_call_follows_its_events() {
    let app = in_call();
    assert_eq!(app.history, ["sip:bob@127.0.0.1"]);
    let call = app.selected_call().expect("the dialled call is selected");
    assert_eq!(call.state, CallState::Active);
    assert_eq!(call.codec.as_deref(), Some("opus"));
    assert!(call.verdict.as_ref().is_some_and(|v| v.lock));
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn a_bare_name_is_dialled_as_a_sip_uri_and_escape_abandons() {
    let mut app = app();
    let actions = keys(
        &mut app,
        &[
            Key::Char('d'),
            Key::Char('b'),
            Key::Char('o'),
            Key::Char('b'),
            Key::Enter,
        ],
    );
    assert_eq!(actions, [Action::Dial("sip:bob".to_owned())]);
    assert!(keys(&mut app, &[Key::Char('d'), Key::Char('x'), Key::Esc]).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    let again: Vec<Key> = "dalice"
        .chars()
        .map(Key::Char)
        .chain([Key::Enter])
        .collect();
    keys(&mut app, &again);
    let bob: Vec<Key> = "dbob".chars().map(Key::Char).chain([Key::Enter]).collect();
    keys(&mut app, &bob);
    assert_eq!(
        app.history,
        ["sip:alice", "sip:bob"],
        "a number dialled again moves to the end, once"
    );
    // Up brings the last number back.
    keys(&mut app, &[Key::Char('d'), Key::Up]);
    assert!(
        matches!(&app.mode, Mode::Dial(f) if f.text == "sip:bob"),
        "{:?}",
        app.mode
    );
}

#[test]
fn hold_resume_hangup_mute_and_keypad_act_on_the_selected_call() {
    let mut app = in_call();
    let call = CallId(1);
    assert_eq!(
        keys(&mut app, &[Key::Char('o')]),
        [Action::Hold(call, true)]
    );
    assert_eq!(app.selected_call().unwrap().state, CallState::OnHold);
    assert_eq!(
        keys(&mut app, &[Key::Char('o')]),
        [Action::Hold(call, false)]
    );
    assert_eq!(app.selected_call().unwrap().state, CallState::Active);
    assert_eq!(
        keys(&mut app, &[Key::Char('m')]),
        [Action::Mute(call, true)]
    );
    assert_eq!(
        keys(
            &mut app,
            &[
                Key::Char('k'),
                Key::Char('1'),
                Key::Char('#'),
                Key::Esc,
                Key::Char('2')
            ]
        ),
        [
            Action::Dtmf(call, "1".to_owned()),
            Action::Dtmf(call, "#".to_owned())
        ],
        "after Esc, 2 is no longer a digit"
    );
    assert_eq!(app.selected_call().unwrap().dtmf_sent, "1#");
    let transfer: Vec<Key> = "tbob@x"
        .chars()
        .map(Key::Char)
        .chain([Key::Enter])
        .collect();
    assert_eq!(
        keys(&mut app, &transfer),
        [Action::Transfer(call, "sip:bob@x".to_owned())]
    );
    assert_eq!(keys(&mut app, &[Key::Char('h')]), [Action::Hangup(call)]);
}

#[test]
fn the_keypad_sends_the_sixteen_dtmf_keys_in_upper_case_and_ignores_others() {
    let mut app = in_call();
    let call = CallId(1);
    let typed: Vec<Key> = "k1*#0dBxz-".chars().map(Key::Char).collect();
    let sent: Vec<Action> = ["1", "*", "#", "0", "D", "B"]
        .into_iter()
        .map(|d| Action::Dtmf(call, d.to_owned()))
        .collect();
    assert_eq!(keys(&mut app, &typed), sent);
    assert_eq!(app.mode, Mode::Keypad, "other keys leave the keypad open");
    assert_eq!(app.selected_call().unwrap().dtmf_sent, "1*#0DB");
}

#[test]
fn reasons_toggle() {
    let mut app = in_call();
    assert!(!app.show_reasons);
    keys(&mut app, &[Key::Char('r')]);
    assert!(app.show_reasons);
    keys(&mut app, &[Key::Char('r')]);
    assert!(!app.show_reasons);
}

#[test]
fn an_incoming_call_pops_up_rings_and_is_answered_muted_or_rejected() {
    let mut app = app();
    let actions = app.update(Input::Phone(Event::CallStarted {
        call: CallId(7),
        direction: "incoming".to_owned(),
        peer: "sip:carol@127.0.0.1".to_owned(),
        security: verified_tls(),
    }));
    assert_eq!(actions, [Action::Bell]);
    assert_eq!(app.ringing().map(|c| c.id), Some(CallId(7)));
    assert_eq!(
        keys(&mut app, &[Key::Char('m')]),
        [Action::Answer {
            call: CallId(7),
            muted: true
        }]
    );
    assert!(app.call(CallId(7)).unwrap().muted);
    let mut app2 = self::app();
    app2.update(Input::Phone(Event::CallStarted {
        call: CallId(8),
        direction: "incoming".to_owned(),
        peer: "sip:dave@127.0.0.1".to_owned(),
        security: verified_tls(),
    }));
    assert_eq!(
        keys(&mut app2, &[Key::Char('r')]),
        [Action::Reject(CallId(8))]
    );
}

#[test]
fn the_trust_prompt_offers_three_answers_and_only_cancel_in_fips_mode() {
    let event = || {
        Input::Phone(Event::TrustDecisionRequired {
            server: "127.0.0.1".to_owned(),
            certificate: Box::new(certificate()),
        })
    };
    for (key, choice) in [
        (Key::Char('a'), TrustChoice::AlwaysTrust),
        (Key::Char('c'), TrustChoice::Continue),
        (Key::Esc, TrustChoice::Cancel),
    ] {
        let mut app = app();
        assert_eq!(app.update(event()), [Action::Bell]);
        assert!(matches!(app.modal, Some(Modal::Trust(_))));
        // Other keys do nothing while the prompt is up.
        assert!(keys(&mut app, &[Key::Char('d'), Key::Char('q')]).is_empty());
        assert_eq!(
            keys(&mut app, &[key]),
            [Action::DecideTrust {
                server: "127.0.0.1".to_owned(),
                choice
            }]
        );
        assert_eq!(app.modal, None);
    }
    let mut fips = App::new(AccountInfo::default(), true, "tone");
    fips.update(event());
    assert!(keys(&mut fips, &[Key::Char('a'), Key::Char('c')]).is_empty());
    assert_eq!(
        keys(&mut fips, &[Key::Char('n')]),
        [Action::DecideTrust {
            server: "127.0.0.1".to_owned(),
            choice: TrustChoice::Cancel
        }]
    );
}

#[test]
fn a_downgrade_rings_and_shows_an_alarm_until_dismissed() {
    let mut app = in_call();
    let actions = app.update(Input::Phone(Event::CallDowngrade {
        call: CallId(1),
        what: "media Encrypted → Not secure".to_owned(),
        action: DowngradePolicy::Alert,
    }));
    assert_eq!(actions, [Action::Bell]);
    assert!(
        app.alarm
            .as_deref()
            .unwrap()
            .contains("media Encrypted → Not secure")
    );
    keys(&mut app, &[Key::Esc]);
    assert_eq!(app.alarm, None);
    assert!(
        app.selected_call().unwrap().downgrade.is_some(),
        "the call keeps it"
    );
}

#[test]
fn a_search_lists_contacts_and_enter_dials_the_chosen_one() {
    let mut app = app();
    let search: Vec<Key> = "/bo".chars().map(Key::Char).chain([Key::Enter]).collect();
    assert_eq!(
        keys(&mut app, &search),
        [Action::SearchContacts("bo".to_owned())]
    );
    let hit = |name: &str, uri: &str| ContactHit {
        name: name.to_owned(),
        sip_uri: uri.to_owned(),
        phone: None,
    };
    app.update(Input::Contacts {
        query: "bo".to_owned(),
        result: Ok(vec![hit("Bob", "sip:bob@a"), hit("Bodil", "sip:bodil@b")]),
    });
    assert!(matches!(app.modal, Some(Modal::Results { .. })));
    assert_eq!(
        keys(&mut app, &[Key::Down, Key::Enter]),
        [Action::Dial("sip:bodil@b".to_owned())]
    );
    assert_eq!(
        app.history,
        ["sip:bodil@b"],
        "a chosen contact joins the history"
    );
    // The contacts now complete in the dial field.
    keys(
        &mut app,
        &[
            Key::Char('d'),
            Key::Char('B'),
            Key::Char('o'),
            Key::Char('b'),
            Key::Tab,
        ],
    );
    assert_eq!(app.mode, Mode::Dial(TextField::with_text("sip:bob@a")));
}

#[test]
fn tab_asks_the_directory_when_nothing_local_matches_and_completes_from_the_answer() {
    let mut app = app();
    let actions = keys(
        &mut app,
        &[Key::Char('d'), Key::Char('z'), Key::Char('o'), Key::Tab],
    );
    assert_eq!(actions, [Action::SearchContacts("zo".to_owned())]);
    app.update(Input::Contacts {
        query: "zo".to_owned(),
        result: Ok(vec![ContactHit {
            name: "Zoe".to_owned(),
            sip_uri: "sip:zoe@example.test".to_owned(),
            phone: None,
        }]),
    });
    assert_eq!(
        app.mode,
        Mode::Dial(TextField::with_text("sip:zoe@example.test"))
    );
    assert_eq!(app.modal, None, "no result window while completing");
}

#[test]
fn the_log_keeps_its_last_lines_whatever_writes_them() {
    let mut app = app();
    for i in 0..LOG_LINES {
        app.log_line(format!("line {i}"));
    }
    keys(
        &mut app,
        &[Key::Char('d'), Key::Char('z'), Key::Char('o'), Key::Tab],
    );
    app.update(Input::Contacts {
        query: "zo".to_owned(),
        result: Ok(Vec::new()),
    });
    assert_eq!(app.log.len(), LOG_LINES);
    assert_eq!(app.log.back().unwrap(), "no contact matches `zo`");
    assert_eq!(app.log.front().unwrap(), "line 1");
    app.update(Input::Log("two\nlines".to_owned()));
    assert_eq!(app.log.len(), LOG_LINES);
    assert_eq!(
        app.log.iter().rev().take(2).collect::<Vec<_>>(),
        ["lines", "two"]
    );
}

#[test]
fn stats_fill_the_sparklines_and_the_call_ends_with_its_reason() {
    let mut app = in_call();
    let view = app.calls.iter_mut().find(|c| c.id == CallId(1)).unwrap();
    for (lost, level) in [(0, 0.1), (3, 0.2), (3, 0.3)] {
        view.take_stats(LiveStats {
            packets_received: 100,
            lost,
            jitter_ms: 1.0,
            rtt_ms: Some(0.5),
            mos: Some(4.4),
            level,
        });
    }
    assert_eq!(view.loss_history, [0, 3, 0]);
    assert_eq!(view.level_history, [100, 200, 300]);
    app.update(Input::Tick);
    app.update(Input::Tick);
    assert_eq!(app.selected_call().unwrap().answered_secs, Some(2));
    // A resized terminal is drawn again; the call's clock does not move.
    assert!(app.update(Input::Redraw).is_empty());
    assert_eq!(app.selected_call().unwrap().answered_secs, Some(2));
    assert_eq!(app.ticks, 2);
    app.update(bob_hung_up());
    assert_eq!(
        app.selected_call().unwrap().state,
        CallState::Ended("hung up".to_owned())
    );
    assert!(app.log.iter().any(|l| l.contains("ended (hung up)")));
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let mut app = app();
    keys(&mut app, &[Key::Char('d')]);
    assert_eq!(keys(&mut app, &[Key::Ctrl('c')]), [Action::Quit]);
    assert!(app.quitting);
}

#[test]
fn after_the_keypad_and_a_hang_up_a_opens_the_audio_devices() {
    let mut app = in_call();
    keys(
        &mut app,
        &[
            Key::Char('m'),
            Key::Char('m'),
            Key::Char('k'),
            Key::Char('1'),
            Key::Esc,
            Key::Char('h'),
        ],
    );
    app.update(bob_hung_up());
    assert_eq!(keys(&mut app, &[Key::Char('a')]), [Action::ListDevices]);
    assert!(matches!(app.modal, Some(Modal::Devices { .. })));
}

#[test]
fn letters_typed_in_the_dial_field_never_answer_a_ringing_call() {
    let mut app = app();
    keys(&mut app, &[Key::Char('d')]);
    app.update(Input::Phone(Event::CallStarted {
        call: CallId(9),
        direction: "incoming".to_owned(),
        peer: "sip:eve@127.0.0.1".to_owned(),
        security: verified_tls(),
    }));
    assert!(keys(&mut app, &[Key::Char('a'), Key::Char('m'), Key::Char('r')]).is_empty());
    assert!(matches!(&app.mode, Mode::Dial(f) if f.text == "amr"));
    assert_eq!(
        keys(&mut app, &[Key::Esc, Key::Char('a')]),
        [Action::Answer {
            call: CallId(9),
            muted: false
        }]
    );
}
