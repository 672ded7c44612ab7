//! Shared helpers of the integration tests: real peers from tests/peers, the lockphone binary,
//! temporary configs.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod baresip;
pub mod calls;
pub mod oauth;
pub mod peers;
pub mod pki;

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

/// Runs `lockphone` with arguments, bounded by `timeout_secs`.
pub fn run_lockphone(args: &[&str], timeout_secs: u64) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("--kill-after=5")
        .arg(timeout_secs.to_string())
        .arg(lockphone_bin())
        .args(args);
    cmd.env("RUST_LOG", "lockphone=debug,lockphone_sip=debug");
    // Never read or write the real user's trust store.
    let xdg = std::env::temp_dir().join(format!("lockphone-test-xdg-{}", std::process::id()));
    cmd.env("XDG_CONFIG_HOME", xdg);
    cmd.output().expect("run lockphone")
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
