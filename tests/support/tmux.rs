//! Driving a program in a real terminal: a tmux session on a private server, keys sent with
//! `send-keys`, the screen read with `capture-pane -p`, captures kept as test artefacts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux session (on its own server) running one command; killed when dropped.
pub struct Pane {
    socket: String,
    name: String,
    captures: PathBuf,
}

impl Pane {
    /// Starts `command` (a shell command line) in a `width`×`height` session named `name`.
    /// The pane stays after the command exits (so the restored terminal can be read).
    pub fn start(name: &str, command: &str, width: u16, height: u16) -> Pane {
        let pane = Pane {
            // A server per session: one session's end (its server exits with it) never races
            // another test's start.
            socket: format!("lockphone-tui-{}-{name}", std::process::id()),
            name: name.to_owned(),
            captures: super::repo_root().join("target/tui-captures"),
        };
        std::fs::create_dir_all(&pane.captures).unwrap();
        let status = pane
            .tmux()
            .args(["new-session", "-d", "-s", name])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(format!("{command}; echo \"EXITED $?\"; sleep 120"))
            .status()
            .expect("run tmux (apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        pane
    }

    /// Counts the terminal bells of this session from now on, one line each in `file`.
    pub fn count_bells(&self, file: &Path) {
        let hook = format!("run-shell \"echo bell >> '{}'\"", file.display());
        for args in [
            vec!["set-option", "-t", &self.name, "bell-action", "any"],
            vec!["set-hook", "-t", &self.name, "alert-bell", &hook],
        ] {
            let status = self.tmux().args(&args).status().unwrap();
            assert!(status.success(), "tmux {args:?}");
        }
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket]);
        cmd
    }

    /// Presses keys by tmux name (`Enter`, `Escape`, `Tab`, `C-c`, or a single character).
    pub fn keys(&self, keys: &[&str]) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        let status = self
            .tmux()
            .args(["send-keys", "-l", "-t", &self.name, text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The screen's text now.
    pub fn capture(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until every one of `texts` is on it (up to `secs`); returns it.
    pub fn wait_for(&self, texts: &[&str], secs: u64) -> String {
        self.wait_until(secs, &format!("{texts:?}"), |screen| {
            texts.iter().all(|t| screen.contains(t))
        })
    }

    /// Polls the screen until `text` is gone from it (up to `secs`); returns it.
    pub fn wait_gone(&self, text: &str, secs: u64) -> String {
        self.wait_until(secs, &format!("{text:?} gone"), |screen| {
            !screen.contains(text)
        })
    }

    fn wait_until(&self, secs: u64, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.capture();
            if done(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                self.save("timeout", &screen);
                panic!(
                    "waited {secs} s for {what}; the screen of {}:\n{screen}",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Keeps `screen` as target/tui-captures/NAME-LABEL.txt; returns the path.
    pub fn save(&self, label: &str, screen: &str) -> PathBuf {
        let path = self.captures.join(format!("{}-{label}.txt", self.name));
        std::fs::write(&path, screen).unwrap();
        path
    }

    /// Waits for `texts`, keeps the capture as `label`, returns it.
    pub fn snapshot(&self, label: &str, texts: &[&str], secs: u64) -> String {
        let screen = self.wait_for(texts, secs);
        self.save(label, &screen);
        screen
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        // The session's own server, and with it the session; then its socket file.
        let socket = self
            .tmux()
            .args(["display-message", "-p", "#{socket_path}"])
            .output()
            .ok()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .filter(|path| path.contains("lockphone-tui-"));
        let _ = self.tmux().arg("kill-server").status();
        if let Some(path) = socket {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The shell command line running `lockphone ui -c CONFIG --audio tone` with its trust and
/// token stores under `xdg` and its stderr in `stderr`, bounded by `timeout`.
pub fn ui_command(config: &Path, xdg: &Path, stderr: &Path, timeout_secs: u64) -> String {
    format!(
        "env XDG_CONFIG_HOME='{}' TERM=xterm-256color timeout --foreground {timeout_secs} '{}' ui -c '{}' --audio tone 2>'{}'",
        xdg.display(),
        super::lockphone_bin().display(),
        config.display(),
        stderr.display()
    )
}
