//! Every example of `examples/` runs against local peers and its output is checked. Cargo
//! builds the examples before the tests; each test runs the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

/// `trust_prompt` answers the trust question in code: the expected fingerprint is accepted
/// (Continue, then Always trust), any other is refused.
#[test]
fn trust_prompt_example_accepts_only_the_expected_fingerprint() {
    use support::peers::PeersRun;

    // The built example (target/<profile>/examples/trust_prompt), built here if absent
    // (`cargo test --test examples` does not build examples).
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile.join("examples").join("trust_prompt");
    if !binary.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build
            .args(["build", "--example", "trust_prompt", "--manifest-path"])
            .arg(support::repo_root().join("Cargo.toml"));
        if profile.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        assert!(
            build.status().unwrap().success(),
            "cannot build trust_prompt"
        );
    }

    let run = PeersRun::new();
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
        let out = std::process::Command::new("timeout")
            .args(["--kill-after=5", "40"])
            .arg(&binary)
            .arg(&config)
            .arg(expected)
            .args(extra)
            .env("XDG_CONFIG_HOME", run.dir().join("xdg"))
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
