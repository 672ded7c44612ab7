//! Call tests against the kit's peers: Lockphone account configs for calls, `lockphone answer`
//! running in the background, SIPp UAC runs and SIPp UAS starts with their own ports (so tests
//! can run side by side), and readers of the JSON events of a call.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::peers::{PeersRun, free_tcp_port, kit};
use super::{json_lines, lockphone_command, tail, wait_for_stderr};

/// Writes a Lockphone account `user` (sip:USER@127.0.0.1, no registration, TLS with the test
/// PKI's certificate of that user as client and listener certificate) with these extra lines
/// in `[account.calls]` (e.g. `srtp = "optional"`), listening on `listen` if given.
/// Returns the config file's path.
pub fn write_call_config(
    run: &PeersRun,
    user: &str,
    listen: Option<u16>,
    calls_extra: &str,
) -> PathBuf {
    let listen = listen.map_or(String::new(), |port| {
        format!("listen = \"127.0.0.1:{port}\"\n")
    });
    write_account(
        run,
        user,
        "register = false\ntransport = \"tls\"",
        &format!("{listen}{calls_extra}"),
    )
}

/// Writes a config file (its own, never overwritten) with one account `user`
/// (sip:USER@127.0.0.1): `account_keys` (more keys of `[[account]]`, or whole sections such
/// as `[account.auth]`), then `[account.tls]` with the run's CA, `user`'s certificate and key
/// from the test PKI and a trust store in the run folder, then `[account.calls]` with `calls`.
pub fn write_account(run: &PeersRun, user: &str, account_keys: &str, calls: &str) -> PathBuf {
    let pki = run.pki();
    let quoted = |p: PathBuf| format!("{:?}", p.display().to_string());
    let text = format!(
        "[[account]]\nname = \"{user}\"\naor = \"sip:{user}@127.0.0.1\"\n{account_keys}\n\
         [account.tls]\nca_file = {ca}\nclient_certificate = {cert}\nclient_key = {key}\n\
         trust_store = {store}\n\
         [account.calls]\n{calls}\n",
        ca = quoted(pki.join("ca.crt")),
        cert = quoted(pki.join(format!("{user}.crt"))),
        key = quoted(pki.join(format!("{user}.key"))),
        store = quoted(run.dir().join(format!("{user}-trust.json"))),
    );
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = run.dir().join(format!("{user}-{n}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `lockphone answer` running in the background (answers automatically, `--json`,
/// `--play silence`); stopped when dropped.
pub struct Answerer {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    /// The TLS port it listens on.
    pub port: u16,
}

impl Answerer {
    /// Starts `lockphone answer -c CONFIG --calls CALLS` (the config listens on `port`) and
    /// waits until it listens. Bounded by `timeout_secs`.
    pub fn start(
        run: &PeersRun,
        config: &Path,
        port: u16,
        calls: u32,
        timeout_secs: u64,
    ) -> Answerer {
        let calls = calls.to_string();
        let args = ["--calls", &calls, "--json", "--play", "silence"];
        Answerer::start_with(run, config, port, &args, timeout_secs)
    }

    /// Starts `lockphone answer -c CONFIG ARGS` (the config listens on `port`), its stdout and
    /// stderr in files of the run, and waits until it listens. Bounded by `timeout_secs`.
    pub fn start_with(
        run: &PeersRun,
        config: &Path,
        port: u16,
        args: &[&str],
        timeout_secs: u64,
    ) -> Answerer {
        let stdout = run.dir().join(format!("answer-{port}.out"));
        let stderr = run.dir().join(format!("answer-{port}.err"));
        let child = lockphone_command(timeout_secs, &run.dir().join("xdg"))
            .arg("answer")
            .arg("-c")
            .arg(config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start lockphone answer");
        let mut answerer = Answerer {
            child,
            stdout,
            stderr,
            port,
        };
        wait_for_stderr(
            &mut answerer.child,
            &answerer.stderr,
            "listening for calls on",
            "lockphone answer",
        );
        answerer
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The file its stderr goes to (readable after [`Answerer::finish`]).
    pub fn stderr_path(&self) -> PathBuf {
        self.stderr.clone()
    }

    /// Its JSON events so far.
    pub fn events(&self) -> Vec<Value> {
        json_lines(&std::fs::read(&self.stdout).unwrap_or_default())
    }

    /// Waits (up to `secs`) until it has ended `calls` calls.
    pub fn wait_ended(&self, calls: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let events = self.events();
            if named(&events, "call-ended").len() >= calls {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "lockphone answer ended fewer than {calls} calls in {secs} s: {events:#?}\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to `secs`) for it to exit by itself; its status and events.
    pub fn finish(mut self, secs: u64) -> (ExitStatus, Vec<Value>) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, self.events());
            }
            assert!(
                Instant::now() < deadline,
                "lockphone answer did not exit within {secs} s: {:#?}\n{}",
                self.events(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of its log (for failure messages).
    pub fn log_tail(&self) -> String {
        tail(&self.stderr_text(), 40)
    }
}

impl Drop for Answerer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // TERM to `timeout`, which passes it on to lockphone.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let _ = self.child.wait();
        }
    }
}

/// A Lockphone callee `bob` (`lockphone answer`, see [`Answerer`]) on a free TLS port,
/// answering `calls` calls with these `[account.calls]` lines; and its URI.
pub fn lockphone_callee(run: &PeersRun, calls: u32, calls_extra: &str) -> (Answerer, String) {
    let port = free_tcp_port();
    let config = write_call_config(run, "bob", Some(port), calls_extra);
    let answerer = Answerer::start(run, &config, port, calls, 60);
    (answerer, format!("sip:bob@127.0.0.1:{port};transport=tls"))
}

/// A UDP port `p` with `p + 2` also free a moment ago (SIPp binds its media port and +2).
pub fn free_media_port() -> u16 {
    for _ in 0..100 {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        if port < 65_000 && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok() {
            return port;
        }
    }
    panic!("no free UDP port pair");
}

/// What a SIPp UAC run (`sipp-uac-call.sh`) did.
pub struct SippRun {
    /// Its exit status (0: every call succeeded).
    pub status: ExitStatus,
    /// Its `-log_file` (the scenario's `<log>` lines).
    pub log: String,
    /// Its stderr (script messages, call counts).
    pub stderr: String,
    /// Its `-error_file` (empty when all went well).
    pub errors: String,
}

impl SippRun {
    /// Everything there is to see, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "status {}\nlog:\n{}\nerrors:\n{}\nstderr:\n{}",
            self.status, self.log, self.errors, self.stderr
        )
    }
}

/// Appends the options of a SIPp script, the file name after `--scenario` made a path in
/// tests/peers/sipp.
fn push_sipp_options(args: &mut Vec<String>, extra: &[&str]) {
    let mut extra = extra.iter();
    while let Some(arg) = extra.next() {
        args.push((*arg).to_owned());
        if *arg == "--scenario" {
            let name = extra.next().expect("--scenario needs a file name");
            args.push(kit().join("sipp").join(name).display().to_string());
        }
    }
}

/// Runs `sipp-uac-call.sh` against `127.0.0.1:target_port` with its own free local ports,
/// presenting alice's client certificate if `cert`, and these extra options
/// (`--offer`, `--scenario` (a file name in tests/peers/sipp), `--proto`, `--set` ...).
pub fn sipp_uac(run: &PeersRun, target_port: u16, cert: bool, extra: &[&str]) -> SippRun {
    let folder = run.dir().join("sipp-uac");
    let _ = std::fs::remove_dir_all(&folder);
    let local = free_tcp_port().to_string();
    let sipp = free_tcp_port().to_string();
    let media = free_media_port().to_string();
    let target = target_port.to_string();
    let alice = run.pki().join("alice.pem").display().to_string();
    let mut args: Vec<String> = [
        "--target-port",
        &target,
        "--user",
        "bob",
        "--hold-ms",
        "200",
        "--max-secs",
        "20",
        "--local-port",
        &local,
        "--sipp-port",
        &sipp,
        "--media-port",
        &media,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if cert {
        args.extend(["--cert".to_owned(), alice]);
    }
    push_sipp_options(&mut args, extra);
    let out = Command::new("timeout")
        .arg("60")
        .arg(kit().join("sipp-uac-call.sh"))
        .args(&args)
        .env("PEERS_RUN", run.dir())
        .env("PEERS_PKI", run.pki())
        .output()
        .expect("run sipp-uac-call.sh");
    SippRun {
        status: out.status,
        log: std::fs::read_to_string(folder.join("logs.log")).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        errors: std::fs::read_to_string(folder.join("errors.log")).unwrap_or_default(),
    }
}

/// Starts a SIPp UAS (`start-sipp-uas.sh`) on a free TLS port with its own SIPp and media
/// ports, with these options (`--suite`, `--scenario` (a file name in tests/peers/sipp),
/// `--set` ...). Returns the TLS port. Stop it with [`stop_sipp_uas`] or by dropping `run`.
pub fn start_sipp_uas(run: &PeersRun, extra: &[&str]) -> u16 {
    let tls = free_tcp_port();
    let tls_text = tls.to_string();
    let sipp = free_tcp_port().to_string();
    let media = free_media_port().to_string();
    let mut args: Vec<String> = [
        "--tls-port",
        &tls_text,
        "--sipp-port",
        &sipp,
        "--media-port",
        &media,
        "--duration",
        "60",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    push_sipp_options(&mut args, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run.script("start-sipp-uas.sh", &args);
    tls
}

/// Stops the SIPp UAS of this run (and its stunnel).
pub fn stop_sipp_uas(run: &PeersRun) {
    run.script(
        "stop-peers.sh",
        &[&run.dir().to_string_lossy(), "sipp-uas", "sipp-uas-tls"],
    );
}

/// `lockphone call -c CONFIG URI --json --play silence --duration SECS`: exit status and events.
pub fn lockphone_call(
    config: &Path,
    uri: &str,
    duration_secs: f64,
) -> (ExitStatus, Vec<Value>, String) {
    let config = config.display().to_string();
    let duration = duration_secs.to_string();
    let out = super::run_lockphone(
        &[
            "call",
            "-c",
            &config,
            uri,
            "--json",
            "--play",
            "silence",
            "--duration",
            &duration,
        ],
        30,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status, json_lines(&out.stdout), stderr)
}

/// The events called `name`.
pub fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// The summaries of the ended calls, in order.
pub fn summaries(events: &[Value]) -> Vec<&Value> {
    named(events, "call-ended")
        .into_iter()
        .map(|e| &e["summary"])
        .collect()
}

/// A verdict level in one spelling: lower case, no separators (`not_secure`, `NotSecure`
/// -> `notsecure`).
pub fn level(verdict: &Value) -> String {
    verdict["level"]
        .as_str()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The levels of a call's `call-security` events, in order.
pub fn security_levels(events: &[Value]) -> Vec<String> {
    named(events, "call-security")
        .iter()
        .map(|e| level(&e["verdict"]))
        .collect()
}
