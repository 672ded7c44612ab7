//! The terminal UI driven in a real terminal (tmux): dialing the kit's baresip and seeing the
//! closed lock, the reasons, hold/resume, hang-up; an incoming call answered; the trust prompt
//! answered each of the three ways against kamailio; a directory search that dials the found
//! contact; an OAuth device login started from the UI. Every screen checked is kept in target/tui-captures/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::baresip::start_baresip;
use support::calls::{sipp_uac, write_account, write_call_config};
use support::oauth::{approve_device, start_kamailio_jwt, start_oauth_server};
use support::peers::{PeersRun, free_tcp_port};
use support::slapd::{PEOPLE_DN, Slapd, sample_ldif};
use support::tmux::{Pane, ui_command};
use support::write_private;

/// Starts the UI on `config` in a 80x24 tmux session `name`.
fn ui(run: &PeersRun, name: &str, config: &Path) -> Pane {
    let command = ui_command(
        config,
        &run.dir().join(format!("{name}-xdg")),
        &run.dir().join(format!("{name}.err")),
        150,
    );
    Pane::start(name, &command, 80, 24)
}

/// Quits with `key` (`q` or `C-c`) and checks that the terminal is restored (the shell's
/// line after the UI, nothing of the UI left).
fn quit_with(pane: &Pane, key: &str) {
    pane.keys(&[key]);
    let screen = pane.wait_for(&["EXITED 0"], 20);
    assert!(!screen.contains("Lockphone "), "the UI is gone: {screen}");
}

fn quit(pane: &Pane) {
    quit_with(pane, "q");
}

#[test]
fn dial_baresip_see_the_lock_and_the_reasons_hold_resume_hang_up() {
    let run = PeersRun::new();
    let bob = start_baresip(&run, "bob", &["--answer", "--duration", "60"]);
    let config = write_account(&run, "alice", "register = false", "");
    let pane = ui(&run, "dial", &config);
    pane.snapshot("idle", &["No call.", "d Dial"], 20);
    pane.keys(&["d"]);
    let uri = format!("sip:bob@127.0.0.1:{};transport=tls", bob.tls_port);
    pane.type_text(&uri);
    pane.snapshot("dial-field", &["Dial ▸ sip:bob@127.0.0.1", "Enter Call"], 5);
    pane.keys(&["Enter"]);
    let screen = pane.snapshot(
        "in-call",
        &[
            "Encrypted",
            "Active",
            "MOS",
            "far end Encrypted",
            "h Hang up",
        ],
        30,
    );
    assert!(screen.contains("🔒"), "the closed lock: {screen}");
    assert!(!screen.contains("🔓"), "{screen}");
    assert!(
        screen.contains("SRTP AEAD_AES_256_GCM · codec") || screen.contains("SRTP AES_CM_128"),
        "the suite: {screen}"
    );
    // A few seconds later: the call timer, RTT from RTCP, the sparklines.
    pane.snapshot("in-call-later", &["Active  00:06"], 20);
    pane.keys(&["r"]);
    let screen = pane.snapshot("reasons", &["Why (r to hide):"], 5);
    assert!(
        screen.contains("TLS to a server verified by a CA"),
        "a plain Encrypted call says why: {screen}"
    );
    pane.keys(&["r", "o"]);
    pane.snapshot("on-hold", &["On hold", "call 1: on hold"], 15);
    pane.keys(&["o"]);
    pane.snapshot("resumed", &["Active", "call 1: resumed"], 15);
    pane.keys(&["m"]);
    pane.wait_for(&["MUTED"], 5);
    pane.keys(&["m", "k", "1", "#", "Escape"]);
    pane.snapshot("keypad", &["DTMF sent: 1#"], 5);
    pane.keys(&["h"]);
    pane.snapshot("hung-up", &["Ended", "call 1: ended"], 15);
    // The audio choice for the next calls.
    pane.keys(&["a"]);
    pane.snapshot(
        "audio",
        &["Audio for the next calls", "test tone (no sound card)"],
        10,
    );
    pane.keys(&["Down", "Down", "Down", "Down", "Down", "Down", "Enter"]);
    pane.wait_for(&["audio for the next calls: silence"], 5);
    quit(&pane);
}

#[test]
fn an_incoming_call_pops_up_and_is_answered() {
    let run = PeersRun::new();
    let port = free_tcp_port();
    let config = write_account(
        &run,
        "alice",
        "register = false",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let pane = ui(&run, "incoming", &config);
    pane.wait_for(&[&format!("calls to 127.0.0.1:{port}")], 20);
    let caller = write_call_config(&run, "bob", None, "");
    let mut call = support::lockphone_command(60, &run.dir().join("bob-xdg"))
        .args(["call", "-c"])
        .arg(&caller)
        .arg(format!("sip:alice@127.0.0.1:{port};transport=tls"))
        .args(["--json", "--play", "tone:700", "--duration", "8"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let screen = pane.snapshot(
        "popup",
        &["Incoming call", "From  sip:bob@127.0.0.1", "[a] Answer"],
        20,
    );
    assert!(screen.contains("caller's certificate verified"), "{screen}");
    pane.keys(&["a"]);
    let screen = pane.snapshot("answered", &["Active", "Encrypted", "MOS"], 20);
    assert!(screen.contains("🔒"), "{screen}");
    assert!(
        !screen.contains("[a] Answer"),
        "the popup is gone: {screen}"
    );
    pane.snapshot("caller-hung-up", &["Ended"], 30);
    assert!(
        call.wait().unwrap().success(),
        "the caller's call succeeded"
    );
    // A second call is rejected: the caller is told Busy Here.
    let rejected = support::lockphone_command(60, &run.dir().join("bob-xdg"))
        .args(["call", "-c"])
        .arg(&caller)
        .arg(format!("sip:alice@127.0.0.1:{port};transport=tls"))
        .args(["--json", "--play", "silence"])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    pane.wait_for(&["Incoming call", "[r] Reject"], 20);
    pane.keys(&["r"]);
    let out = rejected.wait_with_output().unwrap();
    assert!(!out.status.success(), "the rejected call fails");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("486"), "Busy Here: {stdout}");
    pane.snapshot("rejected", &["Ended"], 10);
    quit_with(&pane, "C-c");
}

/// An account registering at kamailio whose certificate no configured CA vouches for.
fn untrusted_registrar(
    run: &PeersRun,
    port: u16,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    write_private(&run.dir().join("alice.password"), "alicepw");
    let store = run.dir().join(format!("{name}-trust.json"));
    let path = run.dir().join(format!("{name}.toml"));
    let text = format!(
        "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\n\
         [account.auth]\nmethod = \"digest\"\npassword_file = \"alice.password\"\n\
         [account.tls]\nca_file = \"{}\"\ntrust_store = \"{}\"\n",
        run.pki().join("rogue.crt").display(),
        store.display()
    );
    std::fs::write(&path, text).unwrap();
    (path, store)
}

#[test]
fn the_trust_prompt_answered_always_continue_and_cancel() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    for (name, key, expected) in [
        ("trust-always", "a", "● Registered"),
        ("trust-continue", "c", "● Registered"),
        ("trust-cancel", "Escape", "✗ Not registered"),
    ] {
        let (config, store) = untrusted_registrar(&run, port, name);
        let pane = ui(&run, name, &config);
        let screen = pane.snapshot(
            "prompt",
            &["Untrusted server certificate", "SHA-256", "[c] Continue"],
            30,
        );
        for wanted in ["unknown issuer", "Peers Test CA", "IP:127.0.0.1", "Valid"] {
            assert!(screen.contains(wanted), "{wanted}: {screen}");
        }
        pane.keys(&[key]);
        pane.snapshot("decided", &[expected], 30);
        let stored = std::fs::read_to_string(&store).unwrap_or_default();
        assert_eq!(
            stored.contains("127.0.0.1"),
            key == "a",
            "{name}: only Always trust writes the store: {stored:?}"
        );
        quit(&pane);
    }
}

#[test]
fn an_ldap_directory_search_dials_the_found_contact() {
    let run = PeersRun::new();
    let bob = start_baresip(&run, "bob", &["--answer", "--duration", "60"]);
    // A real OpenLDAP over LDAPS with the run's server certificate (IP:127.0.0.1), holding
    // Robert Tables whose SIP address (from `mail`) is the baresip instance.
    let ldif = format!(
        "{}dn: cn=Robert Tables,{PEOPLE_DN}\nobjectClass: inetOrgPerson\ncn: Robert Tables\nsn: Tables\n\
         mail: bob@127.0.0.1:{};transport=tls\ntelephoneNumber: +1 555 0999\n\n",
        sample_ldif(),
        bob.tls_port
    );
    let slapd = Slapd::start(
        &run.pki().join("server.crt"),
        &run.pki().join("server.key"),
        &ldif,
    );
    let keys = format!(
        "register = false\n\
         [[account.contacts]]\nname = \"Carol Singer\"\nsip_uri = \"sip:carol@127.0.0.1\"\n\
         [account.directory]\nurl = \"{}\"\nbase_dn = \"{PEOPLE_DN}\"",
        slapd.ldaps_url()
    );
    let config = write_account(&run, "alice", &keys, "");
    let pane = ui(&run, "directory", &config);
    pane.wait_for(&["No call."], 20);
    pane.keys(&["/"]);
    pane.type_text("tables");
    pane.keys(&["Enter"]);
    let screen = pane.snapshot(
        "results",
        &["Directory: tables", "Robert Tables", "+1 555 0999"],
        20,
    );
    assert!(!screen.contains("Carol"), "{screen}");
    pane.keys(&["Enter"]);
    let screen = pane.snapshot(
        "dialled",
        &["Encrypted", "Active", "Call 1 · to · sip:bob@127.0.0.1"],
        30,
    );
    assert!(screen.contains("🔒"), "{screen}");
    pane.keys(&["h"]);
    pane.wait_for(&["Ended"], 15);
    // The contact now completes in the dial field, by name.
    pane.keys(&["d"]);
    pane.type_text("robert");
    pane.keys(&["Tab"]);
    pane.snapshot("completed", &["Dial ▸ sip:bob@127.0.0.1"], 10);
    pane.keys(&["Escape"]);
    quit(&pane);
}

#[test]
fn oauth_device_login_from_the_ui_then_registered() {
    let run = PeersRun::new();
    let issuer = start_oauth_server(&run, 600);
    let port = start_kamailio_jwt(&run, &issuer, 401);
    let store = run.dir().join("tokens/alice.tokens");
    let path = run.dir().join("oauth.toml");
    std::fs::write(
        &path,
        format!(
            "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\n\
             [account.auth]\nmethod = \"oauth\"\nclient_id = \"softphone\"\nissuer = \"{issuer}\"\ntoken_store = \"{}\"\n\
             [account.tls]\nca_file = \"{}\"\n",
            store.display(),
            run.pki().join("ca.crt").display()
        ),
    )
    .unwrap();
    let pane = ui(&run, "oauth", &path);
    pane.snapshot("login-needed", &["Log in needed (press l)"], 30);
    pane.keys(&["l"]);
    let screen = pane.snapshot(
        "device-code",
        &["OAuth login", "To log in, visit", "enter the code: "],
        30,
    );
    let code = screen
        .lines()
        .find_map(|l| l.split("enter the code: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a user code")
        .trim_end_matches('║')
        .to_owned();
    assert!(
        screen.contains(&issuer[..issuer.rfind(':').unwrap()]),
        "the verification URI: {screen}"
    );
    approve_device(&run, &issuer, &code, "alice");
    pane.snapshot(
        "logged-in",
        &["Logged in: registering again.", "● Registered"],
        40,
    );
    assert!(store.exists(), "the tokens are stored");
    pane.keys(&["Escape"]);
    quit(&pane);
}

#[test]
fn a_downgrade_rings_the_bell_and_shows_the_alarm() {
    let run = PeersRun::new();
    let port = free_tcp_port();
    let config = write_call_config(
        &run,
        "bob",
        Some(port),
        "srtp = \"optional\"\non_downgrade = \"alert\"",
    );
    let pane = ui(&run, "downgrade", &config);
    pane.wait_for(&[&format!("calls to 127.0.0.1:{port}")], 20);
    let bells = run.dir().join("bells");
    pane.count_bells(&bells);
    // SIPp calls with SDES, then re-INVITEs with plain RTP/AVP, then hangs up.
    let sipp = std::thread::scope(|scope| {
        let sipp = scope.spawn(|| {
            sipp_uac(
                &run,
                port,
                true,
                &["--scenario", "uac-sdes-reinvite-plain.xml"],
            )
        });
        pane.snapshot("popup", &["Incoming call", "[a] Answer"], 20);
        let rings = std::fs::read_to_string(&bells)
            .unwrap_or_default()
            .lines()
            .count();
        assert!(rings >= 1, "an incoming call rings");
        pane.keys(&["a"]);
        let screen = pane.snapshot("alarm", &["SECURITY DOWNGRADE", "DOWNGRADE:"], 20);
        assert!(
            screen.contains("🔓  Not secure"),
            "the open lock and the words: {screen}"
        );
        // tmux's alert-bell hook appends to the file from a shell of its own: it may land
        // a moment after the screen shows the alarm.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let after = loop {
            let count = std::fs::read_to_string(&bells)
                .unwrap_or_default()
                .lines()
                .count();
            if count > rings || std::time::Instant::now() > deadline {
                break count;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        assert!(
            after > rings,
            "the downgrade rang the bell ({rings} then {after})"
        );
        sipp.join().unwrap()
    });
    assert!(sipp.status.success(), "{}", sipp.describe());
    pane.keys(&["Escape"]);
    pane.wait_gone("SECURITY DOWNGRADE on call", 5);
    quit(&pane);
}

#[test]
fn lockphone_alone_is_the_ui_on_a_terminal_and_an_error_elsewhere() {
    let run = PeersRun::new();
    let xdg = run.dir().join("alone-xdg");
    std::fs::create_dir_all(xdg.join("lockphone")).unwrap();
    let config = write_account(&run, "alice", "register = false", "");
    std::fs::copy(&config, xdg.join("lockphone/lockphone.toml")).unwrap();
    let command = format!(
        "env XDG_CONFIG_HOME='{}' timeout --foreground 60 '{}' 2>'{}'",
        xdg.display(),
        support::lockphone_bin().display(),
        run.dir().join("alone.err").display()
    );
    let pane = Pane::start("alone", &command, 80, 24);
    pane.snapshot("ui", &["Lockphone", "sip:alice@127.0.0.1", "d Dial"], 20);
    quit(&pane);
    let out = support::lockphone_command(20, &xdg)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("give a command"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn blind_transfer_from_the_ui_hands_the_call_over() {
    let run = PeersRun::new();
    let bob = start_baresip(&run, "bob", &["--answer", "--duration", "60"]);
    let carol_port = free_tcp_port();
    let carol = write_call_config(&run, "carol", Some(carol_port), "");
    let carol = support::calls::Answerer::start(&run, &carol, carol_port, 1, 60);
    let config = write_account(&run, "alice", "register = false", "");
    let pane = ui(&run, "transfer", &config);
    pane.wait_for(&["No call."], 20);
    pane.keys(&["d"]);
    pane.type_text(&format!("sip:bob@127.0.0.1:{};transport=tls", bob.tls_port));
    pane.keys(&["Enter"]);
    pane.wait_for(&["Encrypted", "Active"], 30);
    pane.keys(&["t"]);
    pane.type_text(&format!("carol@127.0.0.1:{carol_port};transport=tls"));
    pane.snapshot("target", &["Transfer to ▸ sip:carol@127.0.0.1"], 5);
    pane.keys(&["Enter"]);
    pane.snapshot(
        "done",
        &["transfer Accepted", "transfer Succeeded", "Ended (hung up)"],
        30,
    );
    let events = carol.wait_ended(0, 1);
    assert!(
        support::calls::named(&events, "call-started").len() == 1,
        "carol got bob's call: {events:#?}"
    );
    quit(&pane);
}
