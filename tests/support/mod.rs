//! Shared helpers of the integration tests: real peers from tests/peers, the lockphone binary,
//! temporary configs.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod baresip;
pub mod calls;
pub mod daemon;
pub mod oauth;
pub mod peers;
pub mod pki;
pub mod slapd;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `lockphone` binary built for these tests.
pub fn lockphone_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lockphone"))
}

/// `timeout --kill-after=5 SECS lockphone`, logging at debug level, with `XDG_CONFIG_HOME`
/// (where the trust store lives) in `xdg`; add the arguments and the stdio.
pub fn lockphone_command(timeout_secs: u64, xdg: &Path) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg("--kill-after=5")
        .arg(timeout_secs.to_string())
        .arg(lockphone_bin())
        .env("RUST_LOG", "lockphone=debug,lockphone_sip=debug")
        .env("XDG_CONFIG_HOME", xdg);
    cmd
}

/// Waits (up to 15 s) until `child`'s stderr, written to the file `stderr`, contains
/// `needle`; panics with that stderr if `child` exits first or the time runs out. `what` names
/// the program in the messages.
pub fn wait_for_stderr(child: &mut std::process::Child, stderr: &Path, needle: &str, what: &str) {
    let text = || std::fs::read_to_string(stderr).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !text().contains(needle) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before saying `{needle}`:\n{}",
                text()
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not say `{needle}` within 15 s:\n{}",
            text()
        );
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
}

/// The `XDG_CONFIG_HOME` of runs without their own folder: never the real user's trust store.
pub fn test_xdg_home() -> PathBuf {
    std::env::temp_dir().join(format!("lockphone-test-xdg-{}", std::process::id()))
}

/// Runs `lockphone` with arguments, bounded by `timeout_secs`.
pub fn run_lockphone(args: &[&str], timeout_secs: u64) -> Output {
    lockphone_command(timeout_secs, &test_xdg_home())
        .args(args)
        .output()
        .expect("run lockphone")
}

/// The last `lines` lines of `text` (for failure messages).
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Writes a file with mode 0600.
pub fn write_private(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Parses JSON lines of stdout into values.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}
