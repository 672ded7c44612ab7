//! Starting and stopping the real peers of tests/peers (kamailio, baresip, SIPp) from tests.
//! A peer that cannot start fails the test: interop tests never skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::repo_root;

/// A run folder of the peers kit; stops everything it started when dropped.
pub struct PeersRun {
    dir: tempfile::TempDir,
}

impl PeersRun {
    /// A fresh run folder with the test PKI generated in it.
    pub fn new() -> PeersRun {
        let dir = tempfile::Builder::new()
            .prefix("lockphone-peers.")
            .tempdir()
            .unwrap();
        let run = PeersRun { dir };
        let status = Command::new(kit().join("gen-pki.sh"))
            .arg(run.pki())
            .output()
            .expect("run gen-pki.sh");
        assert!(
            status.status.success(),
            "gen-pki.sh failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        run
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The test PKI folder (ca.crt, server.*, alice.*, bob.*, carol.*, rogue.*).
    pub fn pki(&self) -> PathBuf {
        self.dir.path().join("pki")
    }

    /// Runs a kit script with this run folder; panics with its output if it fails.
    pub fn script(&self, name: &str, args: &[&str]) -> String {
        let out = Command::new("timeout")
            .arg("120")
            .arg(kit().join(name))
            .args(args)
            .env("PEERS_RUN", self.dir())
            .env("PEERS_PKI", self.pki())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
        assert!(
            out.status.success(),
            "peer script {name} {args:?} failed (interop peers must start; run scripts/setup.sh):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts kamailio on a free port with these extra options; returns the port.
    pub fn start_kamailio(&self, options: &[&str]) -> u16 {
        let port = free_tcp_port();
        self.start_kamailio_on(port, options);
        port
    }

    /// Starts kamailio on `port` with these extra options.
    pub fn start_kamailio_on(&self, port: u16, options: &[&str]) {
        let port_text = port.to_string();
        let mut args = vec!["--port", port_text.as_str(), "--duration", "300"];
        args.extend_from_slice(options);
        self.script("start-kamailio.sh", &args);
    }

    /// Stops kamailio (only the instance this run started).
    pub fn stop_kamailio(&self) {
        self.script(
            "stop-peers.sh",
            &[&self.dir().to_string_lossy(), "kamailio"],
        );
    }

    /// kamailio's log so far.
    pub fn kamailio_log(&self) -> String {
        std::fs::read_to_string(self.dir().join("kamailio/kamailio.log")).unwrap_or_default()
    }

    /// Waits (up to `within`) until kamailio's log contains every one of `texts`; panics with
    /// the log otherwise.
    pub fn wait_for_kamailio_log(&self, texts: &[&str], within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let log = self.kamailio_log();
            if texts.iter().all(|t| log.contains(t)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "kamailio never logged {texts:?} within {within:?}: {log}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PeersRun {
    fn drop(&mut self) {
        let _ = Command::new(kit().join("stop-peers.sh"))
            .arg(self.dir())
            .output();
    }
}

/// The peers kit folder.
pub fn kit() -> PathBuf {
    repo_root().join("tests/peers")
}

/// A TCP port that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
