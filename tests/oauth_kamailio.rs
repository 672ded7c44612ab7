//! SIP OAuth end to end against the real servers of the peers kit (scenario 6): the kit's
//! OAuth 2.0 authorization server (oidc-provider) and kamailio checking its JWT access tokens,
//! with 401 (RFC 8898) and 407 (Cisco CUCM style) challenges. The `lockphone` binary logs in
//! (device grant approved by `approve-device.sh`, browser flow + PKCE played by
//! `login-code.sh`), registers with the stored tokens, calls baresip through kamailio with
//! them (also across a renewal), renews them before expiry and after a
//! rejection, asks for a new login when the refresh token is refused, and logs out. Every
//! run logs at trace level, and no token may appear in those logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use lockphone::oauth::{OAuthClient, OAuthError, TokenStore, discover};
use lockphone_sip::auth::Secret;
use support::baresip::start_baresip;
use support::oauth::{
    Lockphone, approve_device, login_code, oauth_server_log, start_kamailio_jwt, start_oauth_server,
};
use support::peers::PeersRun;

/// Access-token lifetime of the authorization server: short, so renewal happens in a test.
const TTL: u64 = 12;

/// The servers shared by the tests running at the same time: the authorization server and a
/// 401 kamailio in one run folder, a 407 kamailio in another, and a kamailio taking a JWT or
/// a client certificate (`--auth jwt,cert`) in a third, where baresip callees register with
/// their certificates: baresip 1.0 cannot register where a 401 carries a Bearer challenge
/// beside the Digest one (`--auth jwt,digest`; libre fails with "Register: Bad message").
/// Stopped when the last test holding them ends.
struct Peers {
    a: PeersRun,
    b: PeersRun,
    c: PeersRun,
    issuer: String,
    port401: u16,
    port407: u16,
    port_mixed: u16,
}

static SHARED: Mutex<Weak<Peers>> = Mutex::new(Weak::new());

fn peers() -> Arc<Peers> {
    let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peers) = slot.upgrade() {
        return peers;
    }
    let started = Instant::now();
    let a = PeersRun::new();
    let issuer = start_oauth_server(&a, TTL);
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    let port401 = start_kamailio_jwt(&a, &issuer, 401);
    let b = PeersRun::new();
    let port407 = start_kamailio_jwt(&b, &issuer, 407);
    let c = PeersRun::new();
    let port_mixed = c.start_kamailio(&["--auth", "jwt,cert", "--as", &issuer]);
    eprintln!("peers started in {:?}", started.elapsed());
    let peers = Arc::new(Peers {
        a,
        b,
        c,
        issuer,
        port401,
        port407,
        port_mixed,
    });
    *slot = Arc::downgrade(&peers);
    peers
}

/// One user's folder: config, token store, logs.
struct Home {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Home {
    /// A config with three accounts of `user` sharing one token store: `k401` (kamailio with 401
    /// challenges), `k407` (407, CUCM style) and `kmix` (Bearer or client certificate, where
    /// the baresip callees register); `issuer` set or left to the challenge.
    fn new(peers: &Peers, user: &str, with_issuer: bool) -> Home {
        let dir = tempfile::Builder::new()
            .prefix("lockphone-oauth.")
            .tempdir()
            .unwrap();
        let store = dir.path().join("tokens").join(format!("{user}.tokens"));
        let issuer = if with_issuer {
            format!("issuer = \"{}\"\n", peers.issuer)
        } else {
            String::new()
        };
        let account = |name: &str, port: u16, run: &PeersRun| {
            format!(
                "[[account]]\nname = \"{name}\"\naor = \"sip:{user}@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\nexpires = 600\n\
                 [account.auth]\nmethod = \"oauth\"\nclient_id = \"softphone\"\n{issuer}token_store = \"{}\"\n\
                 [account.tls]\nca_file = \"{}\"\n\n",
                store.display(),
                run.pki().join("ca.crt").display()
            )
        };
        let text = account("k401", peers.port401, &peers.a)
            + &account("k407", peers.port407, &peers.b)
            + &account("kmix", peers.port_mixed, &peers.c);
        let config = dir.path().join("lockphone.toml");
        std::fs::write(&config, text).unwrap();
        Home { dir, config }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn store(&self, user: &str) -> TokenStore {
        TokenStore::new(self.path().join("tokens").join(format!("{user}.tokens")))
    }

    fn run(&self, log: &str, args: &[&str], timeout: u64) -> Lockphone {
        let mut all = vec![args[0], "--config", self.config.to_str().unwrap()];
        all.extend_from_slice(&args[1..]);
        Lockphone::spawn(self.path(), log, &all, timeout)
    }

    /// Every log written so far.
    fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                text += &std::fs::read_to_string(path).unwrap();
            }
        }
        text
    }
}

/// `lockphone login --device-code` approved by the kit's user helper as `user`.
fn login_device(peers: &Peers, home: &Home, account: &str, user: &str) -> Lockphone {
    let started = Instant::now();
    let mut login = home.run(
        &format!("login-{account}.log"),
        &["login", "--account", account, "--device-code"],
        90,
    );
    let code = login.wait_for("device-code", Duration::from_secs(40));
    let user_code = code["user_code"].as_str().unwrap();
    assert!(
        code["verification_uri"]
            .as_str()
            .unwrap()
            .starts_with(&peers.issuer),
        "{code}"
    );
    let approved = approve_device(&peers.a, &peers.issuer, user_code, user);
    assert!(
        approved.contains(&format!("approved {user_code} login={user}")),
        "{approved}"
    );
    let status = login.finish(Duration::from_secs(30));
    assert!(
        status.success(),
        "login failed: {status}\n{}",
        login.stderr()
    );
    let logged_in = login.named("logged-in");
    assert_eq!(logged_in.len(), 1, "{:?}", login.names());
    assert_eq!(logged_in[0].1["refresh_token"], true);
    eprintln!("device-flow login of {user} took {:?}", started.elapsed());
    login
}

/// Registers for `secs` and un-registers; returns the finished run.
fn register(home: &Home, account: &str, log: &str, secs: u64) -> Lockphone {
    let mut run = home.run(
        log,
        &[
            "register",
            "--account",
            account,
            "--duration",
            &secs.to_string(),
        ],
        secs + 40,
    );
    run.wait_for("registered", Duration::from_secs(30));
    let status = run.finish(Duration::from_secs(secs + 30));
    assert!(
        status.success(),
        "register failed: {status}\n{}",
        run.stderr()
    );
    run
}

/// No access or refresh token (nor the JWT's signature alone) in any log; the logs did
/// record the Bearer credentials, redacted.
fn assert_no_tokens(logs: &str, tokens: &[&Secret]) {
    assert!(
        logs.contains("Bearer <redacted>"),
        "the trace logs show no (redacted) Bearer header"
    );
    assert!(logs.contains("TRACE"), "not logging at trace level");
    for token in tokens {
        let token = token.expose();
        assert!(token.len() > 20);
        assert!(!logs.contains(token), "a token leaked into the logs");
        if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() > 20) {
            assert!(
                !logs.contains(signature),
                "a token signature leaked into the logs"
            );
        }
    }
}

/// Renews `tokens` directly at the AS (as another copy of the client would), consuming the
/// stored refresh token; returns the error if the server refused.
fn refresh_outside(issuer: &str, tokens: &lockphone::oauth::TokenSet) -> Result<(), OAuthError> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = lockphone::oauth::http::HttpClient::new(None);
        let metadata = discover(&http, issuer).await?;
        let client = OAuthClient::new(metadata, "softphone", &["sip".into()], http)?;
        client.refresh(tokens).await.map(|_| ())
    })
}

/// The token with one character of its signature changed (in the middle: the last character
/// of a base64url signature may only carry padding bits).
fn tamper(token: &Secret) -> Secret {
    let text = token.expose();
    let at = text.rfind('.').unwrap() + 20;
    let old = text.as_bytes()[at];
    let new = if old == b'A' { 'B' } else { 'A' };
    Secret::new(format!("{}{new}{}", &text[..at], &text[at + 1..]))
}

#[test]
fn device_login_from_the_challenge_register_401_and_407_then_logout() {
    let peers = peers();
    let home = Home::new(&peers, "alice", false);
    // No issuer configured: `login` learns it from the registrar's Bearer challenge.
    let login = login_device(&peers, &home, "k401", "alice");
    assert_eq!(
        login.named("discovered")[0].1["issuer"],
        peers.issuer.as_str()
    );
    let raw = std::fs::read_to_string(home.store("alice").path()).unwrap();
    let stored = home.store("alice").load().unwrap().unwrap();
    assert!(
        raw.contains("AES-256-GCM") && !raw.contains(stored.access_token.expose()),
        "tokens stored in clear"
    );

    let r401 = register(&home, "k401", "register-401.log", 1);
    assert_eq!(
        r401.names().last().map(String::as_str),
        Some("unregistered")
    );
    let log_a = peers.a.kamailio_log();
    assert!(log_a.contains("auth ok: jwt sub=alice"), "{log_a}");

    let r407 = register(&home, "k407", "register-407.log", 1);
    assert_eq!(
        r407.names().last().map(String::as_str),
        Some("unregistered")
    );
    let log_b = peers.b.kamailio_log();
    assert!(log_b.contains("auth ok: jwt sub=alice"), "{log_b}");
    assert!(
        r407.stderr()
            .contains("Proxy-Authorization: Bearer <redacted>"),
        "the 407 was not answered in Proxy-Authorization"
    );

    let tokens = home.store("alice").load().unwrap().unwrap();
    let refresh = tokens.refresh_token.clone().unwrap();
    let mut logout = home.run("logout.log", &["logout", "--account", "k401"], 30);
    let status = logout.finish(Duration::from_secs(30));
    assert!(status.success(), "{}", logout.stderr());
    let out = &logout.named("logged-out")[0].1;
    assert_eq!(
        (out["deleted"].as_bool(), out["revoked"].as_bool()),
        (Some(true), Some(true)),
        "{out}"
    );
    assert!(!home.store("alice").path().exists() && !home.store("alice").key_path().exists());
    // The revoked refresh token is dead at the server.
    let err = refresh_outside(&peers.issuer, &tokens).unwrap_err();
    assert!(matches!(err, OAuthError::RefreshRejected(_)), "{err}");
    // And `register` now says to log in.
    let mut again = home.run(
        "register-after-logout.log",
        &["register", "--account", "k401"],
        30,
    );
    let required = again.wait_for("login-required", Duration::from_secs(20));
    assert!(
        required["reason"]
            .as_str()
            .unwrap()
            .contains("lockphone login"),
        "{required}"
    );
    assert_eq!(again.finish(Duration::from_secs(10)).code(), Some(3));

    assert_no_tokens(&home.logs(), &[&tokens.access_token, &refresh]);
}

#[test]
fn browser_login_with_pkce_then_register_407() {
    let peers = peers();
    let home = Home::new(&peers, "bob", true);
    let mut login = home.run(
        "login-browser.log",
        &["login", "--account", "k407", "--browser", "--no-open"],
        90,
    );
    let request = login.wait_for("authorization-url", Duration::from_secs(30));
    let url = request["url"].as_str().unwrap();
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "client_id=softphone",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
    ] {
        assert!(url.contains(part), "{part} missing in {url}");
    }
    let redirect = login_code(&peers.a, url, "bob");
    assert!(
        redirect.contains("code=") && redirect.contains("state="),
        "{redirect}"
    );
    let status = login.finish(Duration::from_secs(30));
    assert!(status.success(), "{}", login.stderr());
    assert_eq!(login.named("logged-in").len(), 1);

    register(&home, "k407", "register.log", 1);
    assert!(peers.b.kamailio_log().contains("auth ok: jwt sub=bob"));
    let tokens = home.store("bob").load().unwrap().unwrap();
    assert_no_tokens(
        &home.logs(),
        &[&tokens.access_token, tokens.refresh_token.as_ref().unwrap()],
    );
}

#[test]
fn token_renewed_before_expiry_and_reregistered() {
    let peers = peers();
    let home = Home::new(&peers, "carol", true);
    login_device(&peers, &home, "k401", "carol");
    let before = home.store("carol").load().unwrap().unwrap();
    let mut run = home.run(
        "register.log",
        &["register", "--account", "k401", "--duration", "30"],
        70,
    );
    let first = run.wait_for("registered", Duration::from_secs(20));
    let refreshed = run.wait_for("token-refreshed", Duration::from_secs(TTL + 5));
    assert_eq!(
        refreshed["expires_in_secs"].as_u64().map(|s| s >= TTL - 2),
        Some(true),
        "{refreshed}"
    );
    let refreshed_at = run.named("token-refreshed")[0].0;
    run.wait_for("registered", Duration::from_secs(10));
    let reregistered_at = run.named("registered")[1].0;
    let after = home.store("carol").load().unwrap().unwrap();
    let left = before.expires_at.unwrap() as i64 - after.expires_at.unwrap() as i64
        + after.lifetime_secs.unwrap() as i64;
    eprintln!(
        "FIGURE renewal: re-REGISTER answered {:?} after the new token; old token had ~{left} s left",
        reregistered_at - refreshed_at
    );
    assert!(reregistered_at - refreshed_at < Duration::from_secs(3));
    assert!(after.access_token.expose() != before.access_token.expose());
    assert_ne!(
        after.refresh_token.as_ref().unwrap().expose(),
        before.refresh_token.as_ref().unwrap().expose(),
        "the rotated refresh token was stored"
    );
    assert_eq!(first["event"], "registered");
    drop(run);
    let server = oauth_server_log(&peers.a);
    assert!(server.contains("grant.success refresh_token"), "{server}");
    assert_no_tokens(
        &home.logs(),
        &[
            &before.access_token,
            &after.access_token,
            after.refresh_token.as_ref().unwrap(),
        ],
    );
}

#[test]
fn tampered_and_expired_tokens_are_renewed() {
    let peers = peers();
    let home = Home::new(&peers, "dave", true);
    login_device(&peers, &home, "k407", "dave");
    let store = home.store("dave");
    let good = store.load().unwrap().unwrap();
    // A tampered signature: kamailio answers invalid_token, Lockphone renews and retries once.
    let mut tampered = good.clone();
    tampered.access_token = tamper(&good.access_token);
    store.save(&tampered).unwrap();
    let started = Instant::now();
    let run = register(&home, "k407", "register-tampered.log", 1);
    let names = run.names();
    let refreshed = names
        .iter()
        .position(|n| n == "token-refreshed")
        .expect("renewed");
    assert!(
        names[refreshed..].iter().any(|n| n == "registered"),
        "{names:?}"
    );
    eprintln!(
        "FIGURE tampered token -> registered in {:?}",
        run.named("registered")[0].0 - started
    );
    assert!(peers.b.kamailio_log().contains("invalid_token"));

    // A token the registrar finds expired while the client thinks it is valid.
    let fresh = store.load().unwrap().unwrap();
    let wait = fresh
        .expires_at
        .unwrap()
        .saturating_sub(lockphone::oauth::TokenSet::unix_now())
        + 1;
    std::thread::sleep(Duration::from_secs(wait));
    let mut stale = fresh.clone();
    stale.expires_at = Some(lockphone::oauth::TokenSet::unix_now() + 600);
    stale.lifetime_secs = Some(3600);
    store.save(&stale).unwrap();
    let started = Instant::now();
    let run = register(&home, "k407", "register-expired.log", 1);
    assert!(
        run.names().iter().any(|n| n == "token-refreshed"),
        "{:?}",
        run.names()
    );
    eprintln!(
        "FIGURE expired token (registrar: token expired) -> registered in {:?}",
        run.named("registered")[0].0 - started
    );
    assert!(peers.b.kamailio_log().contains("token expired"));
    let last = store.load().unwrap().unwrap();
    assert_no_tokens(
        &home.logs(),
        &[
            &good.access_token,
            &fresh.access_token,
            &last.access_token,
            last.refresh_token.as_ref().unwrap(),
        ],
    );
}

#[test]
fn consumed_refresh_token_asks_to_log_in_again() {
    let peers = peers();
    let home = Home::new(&peers, "erin", true);
    login_device(&peers, &home, "k401", "erin");
    let store = home.store("erin");
    let tokens = store.load().unwrap().unwrap();
    // Another copy renews first: the stored refresh token is consumed (rotation), and reusing
    // it revokes the grant.
    refresh_outside(&peers.issuer, &tokens).unwrap();
    let mut rejected = tokens.clone();
    rejected.access_token = tamper(&tokens.access_token);
    store.save(&rejected).unwrap();
    let mut run = home.run("register.log", &["register", "--account", "k401"], 40);
    let required = run.wait_for("login-required", Duration::from_secs(30));
    let reason = required["reason"].as_str().unwrap();
    assert!(
        reason.contains("log in again") && reason.contains("invalid_grant"),
        "{reason}"
    );
    assert_eq!(run.finish(Duration::from_secs(10)).code(), Some(3));
    assert!(!run.names().iter().any(|n| n == "registered"));
    assert!(!store.path().exists(), "the dead tokens were not deleted");
    assert!(oauth_server_log(&peers.a).contains("grant.error refresh_token"));
    assert_no_tokens(
        &home.logs(),
        &[&tokens.access_token, tokens.refresh_token.as_ref().unwrap()],
    );
}

/// Starts baresip `callee` (in its own run folder) auto-answering and recording, registered
/// with its client certificate (of the kamailio's PKI) at the `jwt,cert` kamailio; waits until
/// kamailio has it.
fn start_callee(peers: &Peers, callee: &str) -> PeersRun {
    let run = PeersRun::new();
    let registrar = format!("127.0.0.1:{}", peers.port_mixed);
    let cert = peers.c.pki().join(format!("{callee}.pem"));
    start_baresip(
        &run,
        callee,
        &[
            "--answer",
            "--register",
            &registrar,
            "--cert",
            cert.to_str().unwrap(),
            "--duration",
            "60",
        ],
    );
    peers.c.wait_for_kamailio_log(
        &[&format!("auth ok: client certificate CN={callee}")],
        Duration::from_secs(15),
    );
    // The 200 OK reaches baresip just after kamailio's log line.
    std::thread::sleep(Duration::from_millis(300));
    run
}

/// What kamailio logged about the authentication of each INVITE from `user`: the next line
/// of the same worker after its `REQ INVITE` line.
fn invite_auth(log: &str, user: &str) -> Vec<String> {
    let lines: Vec<&str> = log.lines().collect();
    let from = format!("fU={user} ");
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !(line.contains("REQ INVITE") && line.contains(&from)) {
            continue;
        }
        let worker = line.split("NOTICE").next().unwrap_or_default();
        if let Some(next) = lines[i + 1..].iter().find(|l| l.starts_with(worker)) {
            found.push((*next).to_owned());
        }
    }
    found
}

/// The WAV files baresip recorded (received audio), with their sizes.
fn recordings(run: &PeersRun, name: &str) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(run.dir().join(name).join("rec"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| (e.path(), e.metadata().map(|m| m.len()).unwrap_or(0)))
                .filter(|(p, _)| p.to_string_lossy().ends_with("-dec.wav"))
                .collect()
        })
        .unwrap_or_default()
}

/// `lockphone call` of `caller` (account `kmix`) to `callee`, hanging up after `secs`.
fn call(home: &Home, caller_log: &str, callee: &str, secs: u64) -> Lockphone {
    let uri = format!("sip:{callee}@127.0.0.1");
    let mut run = home.run(
        caller_log,
        &[
            "call",
            "--account",
            "kmix",
            &uri,
            "--duration",
            &secs.to_string(),
            "--play",
            "tone:1000",
        ],
        secs + 40,
    );
    let status = run.finish(Duration::from_secs(secs + 35));
    assert!(
        status.success(),
        "call failed: {status}: {:?}\n{}",
        run.names(),
        run.stderr()
    );
    run
}

/// The one `call-ended` summary of a finished call run.
fn summary(run: &Lockphone) -> serde_json::Value {
    let ended = run.named("call-ended");
    assert_eq!(ended.len(), 1, "{:?}", run.names());
    ended[0].1["summary"].clone()
}

#[test]
fn call_through_the_registrar_with_the_token() {
    let peers = peers();
    let bob = start_callee(&peers, "bob");
    let home = Home::new(&peers, "alice", true);
    login_device(&peers, &home, "kmix", "alice");
    let started = Instant::now();
    let run = call(&home, "call.log", "bob", 4);
    eprintln!(
        "FIGURE call of 4 s through kamailio with the token: {:?}",
        started.elapsed()
    );

    let answered = &run.named("call-answered")[0].1;
    assert!(
        answered["srtp_suite"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "no SRTP: {answered}"
    );
    let summary = summary(&run);
    assert_eq!(summary["reached_encrypted"], true, "{summary:#}");
    assert!(
        summary["media"]["stats"]["packets_received"]
            .as_u64()
            .unwrap()
            > 100,
        "{summary:#}"
    );
    assert_eq!(
        summary["media"]["stats"]["srtp_auth_failures"], 0,
        "{summary:#}"
    );
    // The INVITE was challenged (407, Bearer + Digest) and answered with the token.
    let trace = run.stderr();
    assert!(
        trace.contains("Proxy-Authorization: Bearer <redacted>"),
        "the INVITE's 407 was not answered with the token"
    );
    let log = peers.c.kamailio_log();
    assert!(
        log.contains("auth required for INVITE from alice"),
        "the INVITE was not challenged:\n{log}"
    );
    assert!(
        invite_auth(&log, "alice")
            .iter()
            .any(|l| l.contains("auth ok: jwt sub=alice")),
        "kamailio did not accept alice's INVITE by her token:\n{log}"
    );
    let recorded = recordings(&bob, "bob");
    assert!(
        recorded.iter().any(|(_, len)| *len > 20_000),
        "baresip recorded nothing: {recorded:?}"
    );
    let tokens = home.store("alice").load().unwrap().unwrap();
    assert_no_tokens(
        &home.logs(),
        &[&tokens.access_token, tokens.refresh_token.as_ref().unwrap()],
    );
}

#[test]
fn token_renewed_and_reregistered_while_a_call_stays_up() {
    let peers = peers();
    let carol = start_callee(&peers, "carol");
    let home = Home::new(&peers, "frank", true);
    login_device(&peers, &home, "kmix", "frank");
    let before = home.store("frank").load().unwrap().unwrap();
    let started = Instant::now();
    let run = call(&home, "call.log", "carol", 20);
    eprintln!(
        "FIGURE call of 20 s spanning a renewal: {:?}",
        started.elapsed()
    );

    let answered_at = run.named("call-answered")[0].0;
    let ended_at = run.named("call-ended")[0].0;
    let refreshed: Vec<Instant> = run
        .named("token-refreshed")
        .iter()
        .map(|(at, _)| *at)
        .collect();
    let during = |at: &Instant| *at > answered_at && *at < ended_at;
    assert!(
        refreshed.iter().any(during),
        "no renewal during the call: {:?}",
        run.names()
    );
    let registered: Vec<Instant> = run.named("registered").iter().map(|(at, _)| *at).collect();
    assert!(
        registered.iter().filter(|at| during(at)).count() >= 1,
        "no re-REGISTER during the call: {:?}",
        run.names()
    );
    for at in &refreshed {
        eprintln!(
            "FIGURE token renewed {:?} after the answer",
            at.saturating_duration_since(answered_at)
        );
    }
    let summary = summary(&run);
    // Ended by our own hang-up after 20 s, not dropped by the far end or the proxy.
    assert_eq!(summary["end_reason"], "hung up", "{summary:#}");
    assert!(
        summary["duration_secs"].as_f64().unwrap() >= 19.5,
        "{summary:#}"
    );
    let received = summary["media"]["stats"]["packets_received"]
        .as_u64()
        .unwrap();
    eprintln!("FIGURE 20 s call across the renewal: {received} packets received");
    assert!(received > 600, "{summary:#}");
    assert_eq!(
        summary["media"]["stats"]["srtp_auth_failures"], 0,
        "{summary:#}"
    );
    assert!(
        !run.names()
            .iter()
            .any(|n| n == "login-required" || n == "registration-failed")
    );

    let after = home.store("frank").load().unwrap().unwrap();
    assert!(after.access_token.expose() != before.access_token.expose());
    let log = peers.c.kamailio_log();
    assert!(log.contains("auth ok: jwt sub=frank"), "{log}");
    assert!(
        !recordings(&carol, "carol").is_empty(),
        "baresip carol recorded nothing"
    );
    assert_no_tokens(
        &home.logs(),
        &[
            &before.access_token,
            &after.access_token,
            after.refresh_token.as_ref().unwrap(),
        ],
    );
}
