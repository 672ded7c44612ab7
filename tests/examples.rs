//! The examples of `examples/` run against local peers and print what they promise.
//! The examples are built (once) before any peer starts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use support::peers::{PeersRun, free_tcp_port};

/// The folder of the built examples (target/<profile>/examples), built once per test binary by
/// one `cargo build --examples`: `cargo test --all-targets` builds examples as tests, not as
/// programs. Every test calls this (through [`start`]) before it starts a peer, so a peer's
/// timeout never counts the build (a cold build can take minutes).
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--examples", "--manifest-path"])
            .arg(support::repo_root().join("Cargo.toml"));
        if profile.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        assert!(
            build.status().unwrap().success(),
            "cannot build the examples"
        );
        profile.join("examples")
    })
}

/// The built example `name`.
fn example_binary(name: &str) -> PathBuf {
    let path = examples_dir().join(name);
    assert!(path.exists(), "no example {}", path.display());
    path
}

/// A test's run folder, once the examples are built.
fn start() -> PeersRun {
    examples_dir();
    PeersRun::new()
}

/// `timeout --kill-after=5 SECS example`, with `XDG_CONFIG_HOME` (where the trust store
/// lives) in the run's folder; add the arguments and the stdio.
fn example_command(run: &PeersRun, name: &str, secs: u64) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg("--kill-after=5")
        .arg(secs.to_string())
        .arg(example_binary(name))
        .env("XDG_CONFIG_HOME", run.dir().join("xdg"));
    cmd
}

/// Starts `timeout SECS example ARGS` and streams its stdout lines into a channel.
fn spawn_example(
    run: &PeersRun,
    name: &str,
    args: &[&str],
    secs: u64,
) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = example_command(run, name, secs)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Reads lines until one contains `text`; returns it (and keeps every line in `seen`).
fn wait_line(rx: &mpsc::Receiver<String>, text: &str, secs: u64, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(text) {
                    return line;
                }
            }
            Err(_) => panic!(
                "no line with `{text}` within {secs} s; output:\n{}",
                seen.join("\n")
            ),
        }
    }
}

#[test]
fn answer_record_answers_a_call_and_records_it() {
    let run = start();
    let port = free_tcp_port();
    let bob = support::calls::write_call_config(&run, "bob", Some(port), "");
    let alice = support::calls::write_call_config(&run, "alice", None, "");
    let wav = run.dir().join("answered.wav");
    let (mut child, rx) = spawn_example(
        &run,
        "answer_record",
        &[
            bob.to_str().unwrap(),
            "--out",
            wav.to_str().unwrap(),
            "--timeout",
            "40",
        ],
        60,
    );
    let mut seen = Vec::new();
    wait_line(&rx, "listening for a call on 127.0.0.1:", 15, &mut seen);
    let out = support::run_lockphone(
        &[
            "call",
            "-c",
            alice.to_str().unwrap(),
            &format!("sip:bob@127.0.0.1:{port};transport=tls"),
            "--json",
            "--play",
            "tone:440",
            "--duration",
            "2",
        ],
        30,
    );
    assert!(
        out.status.success(),
        "the caller failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_line(&rx, "incoming call from sip:alice@127.0.0.1", 5, &mut seen);
    let security = wait_line(&rx, "call security: ", 5, &mut seen);
    assert!(security.ends_with("Encrypted"), "{security}");
    let recorded = wait_line(&rx, "recorded ", 10, &mut seen);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {}", seen.join("\n"));
    // "recorded 2.0 s of call (N audio frames received, Encrypted) to /abs/answered.wav"
    let path = recorded.rsplit(" to ").next().unwrap();
    assert_eq!(
        std::fs::canonicalize(path).unwrap(),
        std::fs::canonicalize(&wav).unwrap(),
        "{recorded}"
    );
    let frames: u64 = recorded
        .split(" audio frames")
        .next()
        .and_then(|head| head.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame count in {recorded}"));
    assert!(frames >= 50, "{recorded}");
    // The WAV holds the caller's tone: at least a second of 48 kHz 16-bit mono, not silent.
    let bytes = std::fs::read(&wav).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    let data = bytes
        .windows(4)
        .position(|w| w == b"data")
        .map(|at| &bytes[at + 8..])
        .unwrap();
    assert!(data.len() >= 96_000, "{} bytes of audio", data.len());
    let samples: Vec<f64> = data
        .chunks_exact(2)
        .map(|s| f64::from(i16::from_le_bytes([s[0], s[1]])))
        .collect();
    let rms = (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt();
    assert!(rms > 500.0, "the recording is silent (RMS {rms:.0})");
    eprintln!("answer_record printed:\n{}", seen.join("\n"));
}

#[test]
fn oauth_device_login_logs_in_with_the_kit_server() {
    let run = start();
    let issuer = support::oauth::start_oauth_server(&run, 300);
    let store = run.dir().join("tokens").join("alice.tokens");
    let config = run.dir().join("oauth.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\n\
             [account.auth]\nmethod = \"oauth\"\nclient_id = \"softphone\"\nissuer = \"{issuer}\"\ntoken_store = \"{}\"\n",
            store.display()
        ),
    )
    .unwrap();
    let (mut child, rx) = spawn_example(
        &run,
        "oauth_device_login",
        &[config.to_str().unwrap(), "--timeout", "60"],
        90,
    );
    let mut seen = Vec::new();
    let discovered = wait_line(&rx, "authorization server: ", 30, &mut seen);
    assert!(
        discovered.ends_with(issuer.trim_end_matches('/')),
        "{discovered}"
    );
    let prompt = wait_line(&rx, "enter the code", 30, &mut seen);
    assert!(prompt.contains(&format!("visit {issuer}")), "{prompt}");
    let user_code = prompt.rsplit(": ").next().unwrap().trim();
    let approved = support::oauth::approve_device(&run, &issuer, user_code, "alice");
    assert!(
        approved.contains(&format!("approved {user_code}")),
        "{approved}"
    );
    let logged_in = wait_line(&rx, "logged in: ", 30, &mut seen);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {}", seen.join("\n"));
    assert!(logged_in.contains("refresh token yes"), "{logged_in}");
    assert!(
        logged_in.ends_with(&store.display().to_string()),
        "{logged_in}"
    );
    let tokens = lockphone::oauth::TokenStore::new(store)
        .load()
        .unwrap()
        .unwrap();
    assert_eq!(tokens.client_id, "softphone");
    let everything = seen.join("\n");
    assert!(
        !everything.contains(tokens.access_token.expose()),
        "the example printed the access token"
    );
    eprintln!("oauth_device_login printed:\n{everything}");
}

/// `examples/daemon_client.py` (Python 3, standard library only) drives a `lockphone daemon`
/// over its socket: it places a call to a Lockphone callee over TLS, prints the events, hangs
/// up, and prints the verdict.
#[test]
fn daemon_client_py_places_a_secure_call_through_the_daemon() {
    use support::calls::{lockphone_callee, write_call_config};
    use support::daemon::Daemon;

    let run = start();
    let (answerer, uri) = lockphone_callee(&run, 1, "");
    let alice = write_call_config(&run, "alice", None, "");
    let daemon = Daemon::start(&run, "alice", &alice, &[]);
    let script = support::repo_root().join("examples/daemon_client.py");
    let out = Command::new("timeout")
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

/// `trust_prompt` answers the trust question in code: the expected fingerprint is accepted
/// (Continue, then Always trust), any other is refused.
#[test]
fn trust_prompt_example_accepts_only_the_expected_fingerprint() {
    let run = start();
    let port = run.start_kamailio(&["--auth", "digest"]);
    support::write_private(&run.dir().join("alice.password"), "alicepw");
    let store = run.dir().join("trusted-servers.json");
    // The account trusts only an unrelated certificate as CA: kamailio's needs a decision.
    let config = run.dir().join("alice.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\n\
             [account.auth]\nmethod = \"digest\"\npassword_file = \"{}\"\n\
             [account.tls]\nca_file = \"{}\"\ntrust_store = \"{}\"\n",
            run.dir().join("alice.password").display(),
            run.pki().join("rogue.crt").display(),
            store.display()
        ),
    )
    .unwrap();
    let chain = lockphone::tls::load_certificate_chain(&run.pki().join("server.crt")).unwrap();
    let sha = lockphone::tls::fingerprint(chain[0].as_ref());
    let run_example = |expected: &str, extra: &[&str]| {
        let out = example_command(&run, "trust_prompt", 40)
            .arg(&config)
            .arg(expected)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    let wrong = "00".repeat(32);
    let (code, stdout) = run_example(&wrong, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains(&format!("sha256 {sha}")), "{stdout}");
    assert!(stdout.contains("decision: Cancel"), "{stdout}");
    assert!(
        stdout.contains("failed:") && stdout.contains("cancel"),
        "{stdout}"
    );

    // Lower case without colons: the example compares fingerprints however written.
    let expected = sha.replace(':', "").to_ascii_lowercase();
    let (code, stdout) = run_example(&expected, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("decision: Continue"), "{stdout}");
    assert!(
        stdout.contains("trusted by Some(UserContinued)"),
        "{stdout}"
    );
    assert!(stdout.contains("registered for"), "{stdout}");
    assert!(!store.exists(), "Continue stores nothing");

    let (code, stdout) = run_example(&expected, &["--always"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("decision: AlwaysTrust"), "{stdout}");
    // Stored: the next run is not asked at all.
    let (code, stdout) = run_example(&wrong, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!stdout.contains("question:"), "{stdout}");
    assert!(
        stdout.contains("trusted by Some(UserTrustStore)"),
        "{stdout}"
    );
}

/// Runs example `name` with `args`, bounded by `secs`, with its trust store in the run.
fn run_example(run: &PeersRun, name: &str, args: &[&str], secs: u64) -> std::process::Output {
    example_command(run, name, secs)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run example {name}: {e}"))
}

#[test]
fn secure_call_example_prints_an_encrypted_verdict() {
    let run = start();
    let (bob, target) = support::calls::lockphone_callee(&run, 1, "");
    let alice = support::calls::write_call_config(&run, "alice", None, "");
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
    let run = start();
    let (bob, target) = support::calls::lockphone_callee(&run, 4, "");
    let alice = support::calls::write_call_config(&run, "alice", None, "");
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
