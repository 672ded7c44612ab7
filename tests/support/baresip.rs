//! Calls between Lockphone and the kit's baresip: accounts, baresip instances, packet
//! captures and the kit's `verify/verify-call.sh`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::calls::write_account;
use super::peers::{PeersRun, free_tcp_port, kit};

/// A free base port for baresip (plain on N, TLS on N+1) and a free control port.
pub fn baresip_ports() -> (u16, u16) {
    // Linux hands out odd ports for bind(0): take any and check its neighbour.
    loop {
        let base = free_tcp_port();
        let free = base < 60000
            && std::net::TcpListener::bind(("127.0.0.1", base + 1)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", base)).is_ok();
        if free {
            return (base, free_tcp_port());
        }
    }
}

/// An RTP port range for a baresip instance (100 ports, picked at random in 30000-49999).
pub fn rtp_range() -> String {
    let low = 30000 + (free_tcp_port() % 200) * 100;
    format!("{}-{}", low, low + 99)
}

/// A baresip instance started for a test.
pub struct Baresip {
    /// Its TLS port.
    pub tls_port: u16,
    /// Its RTP/RTCP port range (`A-B`), for the capture filter.
    pub rtp_ports: String,
}

/// Starts baresip `name` with these options (ports chosen here).
pub fn start_baresip(run: &PeersRun, name: &str, options: &[&str]) -> Baresip {
    let (base, ctrl) = baresip_ports();
    let base_text = base.to_string();
    let ctrl_text = ctrl.to_string();
    let rtp = options
        .windows(2)
        .find(|w| w[0] == "--rtp-ports")
        .map_or_else(rtp_range, |w| w[1].to_owned());
    let mut args = vec![
        name,
        "--port",
        &base_text,
        "--ctrl-port",
        &ctrl_text,
        "--rtp-ports",
        &rtp,
    ];
    args.extend_from_slice(options);
    run.script("start-baresip.sh", &args);
    Baresip {
        tls_port: base + 1,
        rtp_ports: rtp,
    }
}

/// baresip's log (full SIP trace with SDP), complete: the instance is stopped first, because
/// baresip's output to a file is block-buffered and the last messages (a 488, the answer SDP)
/// may otherwise still sit in its buffer.
pub fn baresip_log(run: &PeersRun, name: &str) -> PathBuf {
    run.script("stop-peers.sh", &[&run.dir().to_string_lossy(), name]);
    run.dir().join(name).join("baresip.log")
}

/// Starts a packet capture on `lo` for `secs`: TCP on `tls_ports` (the signalling) and UDP
/// in baresip's RTP range (every media flow has baresip at one end), nothing else, as other
/// tests may run on the machine.
pub fn start_capture(run: &PeersRun, tls_ports: &[u16], rtp_ports: &str, secs: u32) -> PathBuf {
    let filter = tls_ports
        .iter()
        .map(|p| format!("tcp port {p}"))
        .chain(std::iter::once(format!("udp portrange {rtp_ports}")))
        .collect::<Vec<_>>()
        .join(" or ");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". {}/lib.sh; peers_run_dir; start_capture {secs}",
            kit().display()
        ))
        .env("PEERS_RUN", run.dir())
        .env("PEERS_PKI", run.pki())
        .env("PEERS_CAPTURE_FILTER", filter)
        .output()
        .expect("run the capture");
    assert!(
        out.status.success(),
        "tshark did not start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default(),
    )
}

/// Stops the capture (flushing it to disk).
pub fn stop_capture(run: &PeersRun) {
    let _ = Command::new(kit().join("stop-peers.sh"))
        .arg(run.dir())
        .arg("capture")
        .output();
}

/// Runs the kit's verifier: TLS-only SIP, SRTP decrypting with the keys in `logs`, audio in
/// `rec`. Returns its output; panics with it if the verdict is not PASS.
pub fn verify_call(pcap: &Path, rec: &Path, logs: &[&Path]) -> String {
    let mut cmd = Command::new("timeout");
    cmd.arg("120")
        .arg(kit().join("verify/verify-call.sh"))
        .arg("--pcap")
        .arg(pcap)
        .arg("--rec")
        .arg(rec)
        .arg("--min-secs")
        .arg("2");
    cmd.args(logs);
    let out = cmd.output().expect("run verify-call.sh");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "verify-call.sh failed:\n{text}");
    text
}

/// A Lockphone config with one account `name` with TLS trusting the run's CA.
pub struct Account {
    /// The config file.
    pub path: PathBuf,
}

impl Account {
    /// Writes the account `name` (see [`write_account`]): `account_keys` in `[[account]]`,
    /// `calls` in `[account.calls]`.
    pub fn write(run: &PeersRun, name: &str, account_keys: &str, calls: &str) -> Account {
        Account {
            path: write_account(run, name, account_keys, calls),
        }
    }

    /// Runs `lockphone ARGS -c CONFIG --json` to completion (bounded).
    pub fn run(&self, args: &[&str], timeout_secs: u64) -> Output {
        let config = self.path.to_string_lossy().into_owned();
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["-c", &config, "--json"]);
        super::run_lockphone(&all, timeout_secs)
    }

    /// Starts `lockphone ARGS -c CONFIG --json` in the background.
    pub fn spawn(&self, args: &[&str], timeout_secs: u64) -> Child {
        super::lockphone_command(timeout_secs, &super::test_xdg_home())
            .args(args)
            .arg("-c")
            .arg(&self.path)
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lockphone")
    }
}

/// The first event named `name` in JSON lines.
pub fn event<'a>(events: &'a [serde_json::Value], name: &str) -> Option<&'a serde_json::Value> {
    events.iter().find(|e| e["event"] == name)
}
