//! The screens drawn at 80x24 on ratatui's TestBackend, checked by their text.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::text::Span;

use crate::call::CallId;
use crate::tui::input::{ContactHit, Input, Key};
use crate::tui::state::tests::{app, certificate, in_call, verdict, verified_tls};
use crate::tui::state::{App, LiveStats, Registration};
use crate::ua::Event;
use crate::verdict::{RemoteSecurity, SecurityLevel};

/// The screen's text, one string per row, as a terminal shows it.
fn screen(app: &App, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| super::draw(frame, app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    (0..height)
        .map(|y| {
            let mut row = String::new();
            let mut x = 0;
            while x < width {
                let symbol = buffer[(x, y)].symbol();
                row.push_str(symbol);
                // A wide symbol covers the next cell too, as on a terminal.
                x += u16::try_from(Span::raw(symbol).width().max(1)).unwrap_or(1);
            }
            row
        })
        .collect()
}

fn text(rows: &[String]) -> String {
    rows.join("\n")
}

fn with_stats(mut app: App) -> App {
    let view = app.calls.iter_mut().find(|c| c.id == CallId(1)).unwrap();
    for (lost, level) in [(0, 0.05), (0, 0.2), (2, 0.4)] {
        view.take_stats(LiveStats {
            packets_received: 250,
            lost,
            jitter_ms: 1.3,
            rtt_ms: Some(0.6),
            mos: Some(4.38),
            level,
        });
    }
    app.update(Input::Tick);
    app
}

#[test]
fn the_in_call_view_shows_the_closed_lock_media_stats_and_keys_at_80x24() {
    let rows = screen(&with_stats(in_call()), 80, 24);
    let all = text(&rows);
    assert!(
        rows[0].contains("Lockphone") && rows[0].contains("sip:alice@127.0.0.1"),
        "{all}"
    );
    assert!(all.contains("🔒  Encrypted"), "{all}");
    assert!(all.contains("Active  00:01"), "{all}");
    assert!(
        all.contains("signalling Encrypted (TLSv1.3) · media Encrypted · far end Encrypted"),
        "{all}"
    );
    assert!(all.contains("SRTP AEAD_AES_256_GCM · codec opus"), "{all}");
    assert!(
        all.contains("loss 2 (0.8%) · jitter 1.3 ms · RTT 0.6 ms · MOS 4.38"),
        "{all}"
    );
    let level = rows
        .iter()
        .find(|r| r.contains("│level "))
        .expect("a level sparkline");
    assert!(
        level.contains('▁') && level.contains('▃') && !level.contains('█'),
        "levels 0.05, 0.2, 0.4 on a 0..1 scale: {level}"
    );
    assert!(
        rows[23].contains("h Hang up") && rows[23].contains("o Hold"),
        "{all}"
    );
    assert!(rows.iter().all(|r| r.chars().count() <= 80));
}

#[test]
fn reasons_are_listed_on_request() {
    let mut app = in_call();
    app.update(Input::Phone(Event::CallSecurity {
        call: CallId(1),
        verdict: verdict(SecurityLevel::Encrypted, RemoteSecurity::Unknown),
    }));
    let before = text(&screen(&app, 80, 24));
    assert!(
        before.contains("🔓  Unknown"),
        "no lock without a known far end: {before}"
    );
    assert!(!before.contains("remote side is unknown"), "{before}");
    app.update(Input::Key(Key::Char('r')));
    let after = text(&screen(&app, 80, 24));
    assert!(after.contains("Why (r to hide):"), "{after}");
    assert!(after.contains("• the remote side is unknown"), "{after}");
}

#[test]
fn not_secure_and_authenticated_are_words_and_symbols() {
    for (level, shown) in [
        (SecurityLevel::NotSecure, "🔓  Not secure"),
        (SecurityLevel::Authenticated, "🛡  Authenticated"),
    ] {
        let mut app = in_call();
        app.update(Input::Phone(Event::CallSecurity {
            call: CallId(1),
            verdict: verdict(level, RemoteSecurity::Known(level)),
        }));
        let all = text(&screen(&app, 80, 24));
        assert!(all.contains(shown), "{shown}: {all}");
    }
}

#[test]
fn the_incoming_popup_offers_answer_muted_and_reject() {
    let mut app = app();
    app.update(Input::Phone(Event::CallStarted {
        call: CallId(3),
        direction: "incoming".to_owned(),
        peer: "sip:carol@127.0.0.1".to_owned(),
        security: verified_tls(),
    }));
    let rows = screen(&app, 80, 24);
    let all = text(&rows);
    assert!(all.contains("Incoming call"), "{all}");
    assert!(all.contains("From  sip:carol@127.0.0.1"), "{all}");
    assert!(
        all.contains("[a] Answer   [m] Answer muted   [r] Reject"),
        "{all}"
    );
    assert!(rows[23].contains("a Answer"), "{all}");
}

#[test]
fn the_trust_prompt_shows_the_certificate_and_in_fips_mode_only_cancel() {
    let event = || {
        Input::Phone(Event::TrustDecisionRequired {
            server: "127.0.0.1".to_owned(),
            certificate: Box::new(certificate()),
        })
    };
    let mut app = app();
    app.update(event());
    let all = text(&screen(&app, 80, 24));
    for wanted in [
        "Untrusted server certificate",
        "Reason   unknown issuer",
        "Subject  CN=127.0.0.1",
        "Issuer   CN=Peers Test CA",
        "Valid    2026-01-01 .. 2027-01-01",
        "Names    IP:127.0.0.1",
        "SHA-256  AB:CD",
        "         EF",
        "[a] Always trust   [c] Continue (this session)   [n/Esc] Cancel",
    ] {
        assert!(all.contains(wanted), "{wanted}: {all}");
    }
    let mut fips = App::new(Default::default(), true, "tone");
    fips.update(event());
    let rows = screen(&fips, 80, 24);
    let all = text(&rows);
    assert!(rows[0].contains("[FIPS]"), "{all}");
    assert!(!all.contains("Always trust"), "{all}");
    assert!(
        all.contains("FIPS mode: an untrusted certificate cannot be accepted."),
        "{all}"
    );
}

#[test]
fn the_downgrade_alarm_is_a_banner() {
    let mut app = in_call();
    app.update(Input::Phone(Event::CallDowngrade {
        call: CallId(1),
        what: "media Encrypted → Not secure".to_owned(),
        action: crate::verdict::DowngradePolicy::Alert,
    }));
    let rows = screen(&app, 80, 24);
    assert!(rows[1].contains("SECURITY DOWNGRADE"), "{}", text(&rows));
    assert!(text(&rows).contains("⚠ DOWNGRADE: media Encrypted → Not secure"));
}

#[test]
fn directory_results_and_the_dial_field_with_candidates() {
    let mut app = app();
    app.update(Input::Contacts {
        query: "bo".to_owned(),
        result: Ok(vec![
            ContactHit {
                name: "Bob Builder".to_owned(),
                sip_uri: "sip:bob@example.test".to_owned(),
                phone: Some("+1 555 0100".to_owned()),
            },
            ContactHit {
                name: "Bodil".to_owned(),
                sip_uri: "sip:bodil@example.test".to_owned(),
                phone: None,
            },
        ]),
    });
    let all = text(&screen(&app, 80, 24));
    assert!(all.contains("Directory: bo"), "{all}");
    assert!(
        all.contains("▶ Bob Builder  <sip:bob@example.test>  ☎ +1 555 0100"),
        "{all}"
    );
    app.update(Input::Key(Key::Esc));
    for key in "dbo".chars() {
        app.update(Input::Key(Key::Char(key)));
    }
    app.update(Input::Key(Key::Tab));
    let rows = screen(&app, 80, 24);
    let all = text(&rows);
    assert!(all.contains("Dial ▸ bo"), "{all}");
    assert!(
        all.contains("Bob Builder <sip:bob@example.test> · Bodil <sip:bodil@example.test>"),
        "{all}"
    );
    assert!(rows[23].contains("Tab Complete"), "{all}");
}

#[test]
fn the_header_tells_the_registration_and_larger_screens_work() {
    let mut app = app();
    app.account.registers = true;
    app.update(Input::Phone(Event::Registered {
        expires_secs: 600,
        contact: "<sip:alice@127.0.0.1>".to_owned(),
    }));
    assert_eq!(app.registration, Registration::Registered(600));
    let rows = screen(&app, 120, 40);
    assert!(rows[0].contains("● Registered (600 s)"), "{}", text(&rows));
    assert!(text(&rows).contains("No call."));
    assert!(rows[39].contains("d Dial"));
}

#[test]
fn the_log_pane_shows_the_newest_lines_whole() {
    let mut app = app();
    for n in 0..10 {
        app.log_line(format!("line {n}"));
    }
    app.log_line(format!("long {}", "x".repeat(100)));
    let rows = screen(&app, 80, 24);
    let all = text(&rows);
    assert!(all.contains("line 9"), "{all}");
    assert!(!all.contains("line 7"), "only what fits: {all}");
    assert!(
        rows[22].starts_with("xxxxxxxxxxxxxxxxxxxxxxxxx "),
        "the end of the long line: {all}"
    );
}

#[test]
fn the_log_pane_cuts_long_lines_at_characters() {
    let mut app = app();
    app.log_line("é".repeat(100) + "z");
    app.log_line("last".to_owned());
    let rows = screen(&app, 80, 24);
    let all = text(&rows);
    assert_eq!(rows[19].trim_end(), "é".repeat(80), "{all}");
    assert_eq!(rows[20].trim_end(), "é".repeat(20) + "z", "{all}");
    assert_eq!(rows[21].trim_end(), "last", "{all}");
}
