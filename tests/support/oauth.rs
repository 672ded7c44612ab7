//! Scenario 6 of the peers kit for the OAuth tests: the kit's authorization server
//! (`start-oauth-server.sh`), kamailio checking its JWTs (`--auth jwt`), the user/browser
//! helpers (`oauth/approve-device.sh`, `oauth/login-code.sh`), and `lockphone` run as a child
//! whose JSON events are read line by line as they come.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::peers::{PeersRun, free_tcp_port};
use super::{lockphone_command, tail};

/// Starts the kit's authorization server on a free port in `run`; returns its issuer URL.
/// Device authorizations are polled every second (`--device-interval 1`).
pub fn start_oauth_server(run: &PeersRun, ttl_secs: u64) -> String {
    let port = free_tcp_port().to_string();
    let ttl = ttl_secs.to_string();
    let out = run.script(
        "start-oauth-server.sh",
        &[
            "--port",
            &port,
            "--ttl",
            &ttl,
            "--duration",
            "300",
            "--device-interval",
            "1",
        ],
    );
    out.lines().last().unwrap_or_default().trim().to_owned()
}

/// Starts kamailio with `--auth jwt` against `issuer`, challenging with 401 or 407.
pub fn start_kamailio_jwt(run: &PeersRun, issuer: &str, challenge: u16) -> u16 {
    run.start_kamailio(&[
        "--auth",
        "jwt",
        "--as",
        issuer,
        "--bearer-challenge",
        &challenge.to_string(),
    ])
}

/// Plays the user of a device authorization: approves `user_code` as `login`.
pub fn approve_device(run: &PeersRun, issuer: &str, user_code: &str, login: &str) -> String {
    run.script(
        "oauth/approve-device.sh",
        &["--as", issuer, user_code, login],
    )
}

/// Plays the browser of an authorization-code flow: signs in as `login` at `url` and delivers
/// the code to the loopback redirect; returns the redirect URL it followed.
pub fn login_code(run: &PeersRun, url: &str, login: &str) -> String {
    run.script("oauth/login-code.sh", &[url, login])
}

/// The authorization server's log (one line per token request).
pub fn oauth_server_log(run: &PeersRun) -> String {
    std::fs::read_to_string(run.dir().join("oauth/server.log")).unwrap_or_default()
}

/// A running `lockphone` whose stdout JSON events are read as they arrive and whose stderr
/// (logging at trace level) goes to a file.
pub struct Lockphone {
    child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
    /// Every event seen so far, with when it arrived.
    pub events: Vec<(Instant, Value)>,
    stderr: PathBuf,
}

impl Lockphone {
    /// Starts `lockphone ARGS --json -vv` with trace logging, `XDG_CONFIG_HOME` in `home`,
    /// stderr into `home/<stderr_name>`, bounded by `timeout_secs`.
    pub fn spawn(home: &Path, stderr_name: &str, args: &[&str], timeout_secs: u64) -> Lockphone {
        let stderr = home.join(stderr_name);
        let mut child = lockphone_command(timeout_secs, &home.join("xdg"))
            .args(args)
            .args(["--json", "-vv"])
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start lockphone");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Lockphone {
            child,
            lines,
            events: Vec::new(),
            stderr,
        }
    }

    /// Waits up to `within` for an event named `name`; returns it (panics with the events
    /// seen and the log tail otherwise).
    pub fn wait_for(&mut self, name: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) => {
                    if let Ok(value) = serde_json::from_str::<Value>(&line) {
                        self.events.push((at, value.clone()));
                        if value["event"] == name {
                            return value;
                        }
                    }
                }
                Err(_) => panic!(
                    "no `{name}` event within {within:?}; events: {:?}\nstderr tail:\n{}",
                    self.names(),
                    self.stderr_tail()
                ),
            }
        }
    }

    /// Waits for the process to end; returns its status, after reading the remaining events.
    pub fn finish(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok((at, line)) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    if let Ok(value) = serde_json::from_str::<Value>(&line) {
                        self.events.push((at, value));
                    }
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "lockphone still running after {within:?}; events {:?}",
                self.names()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The names of the events seen so far.
    pub fn names(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|(_, e)| e["event"].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    /// The events named `name` with when they arrived.
    pub fn named(&self, name: &str) -> Vec<(Instant, Value)> {
        self.events
            .iter()
            .filter(|(_, e)| e["event"] == name)
            .cloned()
            .collect()
    }

    /// Everything logged on stderr.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn stderr_tail(&self) -> String {
        tail(&self.stderr(), 40)
    }
}

impl Drop for Lockphone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
