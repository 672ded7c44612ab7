//! `lockphone daemon` from tests: starting it on a socket in the run folder and a blocking
//! JSON-lines client that keeps the events it sees while waiting for replies.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::peers::PeersRun;
use super::{lockphone_command, tail, wait_for_stderr};

/// A daemon process; killed when dropped.
pub struct Daemon {
    child: Child,
    stderr: PathBuf,
    /// Its control socket.
    pub socket: PathBuf,
}

impl Daemon {
    /// Starts `lockphone daemon -c CONFIG --socket RUN/NAME.sock EXTRA…` and waits until its
    /// socket (and its call listener, when the config listens) is up.
    pub fn start(run: &PeersRun, name: &str, config: &Path, extra: &[&str]) -> Daemon {
        let socket = run.dir().join(format!("{name}.sock"));
        let stderr = run.dir().join(format!("{name}-daemon.err"));
        let child = lockphone_command(120, &run.dir().join("xdg"))
            .arg("daemon")
            .arg("-c")
            .arg(config)
            .arg("--socket")
            .arg(&socket)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start lockphone daemon");
        let mut daemon = Daemon {
            child,
            stderr,
            socket,
        };
        wait_for_stderr(
            &mut daemon.child,
            &daemon.stderr,
            "control socket",
            "lockphone daemon",
        );
        daemon
    }

    /// Its stderr so far.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The last lines of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        tail(&self.stderr_text(), 40)
    }

    /// A new client on its socket (the `hello` line already read and checked).
    pub fn client(&self) -> Client {
        let stream = UnixStream::connect(&self.socket).expect("connect to the daemon");
        let mut client = Client::new(stream);
        let hello = client.line();
        assert_eq!(hello["type"], "hello", "{hello}");
        assert_eq!(hello["authenticate"], false, "{hello}");
        client
    }

    /// Waits (up to `secs`) for it to exit.
    pub fn wait(mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "daemon still running:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking client of the control socket (or any stream speaking the protocol).
pub struct Client {
    reader: BufReader<Box<dyn std::io::Read + Send>>,
    writer: Box<dyn Write + Send>,
    next_id: u64,
    /// Every event received so far, in order.
    pub events: Vec<Value>,
    /// Error lines without an id (events-lost, line-too-long…).
    pub unsolicited: Vec<Value>,
}

impl Client {
    /// Wraps a connected Unix stream.
    pub fn new(stream: UnixStream) -> Client {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let reader = stream.try_clone().unwrap();
        Client::from_parts(Box::new(reader), Box::new(stream))
    }

    /// A client over a reader and a writer (a TCP stream's two halves).
    pub fn from_parts(
        reader: Box<dyn std::io::Read + Send>,
        writer: Box<dyn Write + Send>,
    ) -> Client {
        Client {
            reader: BufReader::new(reader),
            writer,
            next_id: 100,
            events: Vec::new(),
            unsolicited: Vec::new(),
        }
    }

    /// Writes raw bytes (a malformed line, say).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// The next line from the daemon, parsed.
    pub fn line(&mut self) -> Value {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .expect("a line from the daemon");
        assert!(n > 0, "the daemon closed the connection");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"))
    }

    /// The next line that is not an event (events are kept).
    pub fn answer(&mut self) -> Value {
        loop {
            let line = self.line();
            if line["type"] == "event" {
                self.events.push(line);
            } else {
                return line;
            }
        }
    }

    /// Sends `command` with a fresh id and returns the reply or error carrying that id.
    pub fn request(&mut self, mut command: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        command["id"] = json!(id);
        self.send_raw(format!("{command}\n").as_bytes());
        loop {
            let answer = self.answer();
            if answer["id"] == json!(id) {
                return answer;
            }
            self.unsolicited.push(answer);
        }
    }

    /// Sends `command` and returns its result, failing the test on an error.
    pub fn ok(&mut self, command: Value) -> Value {
        let answer = self.request(command.clone());
        assert_eq!(answer["type"], "reply", "{command} -> {answer}");
        answer["result"].clone()
    }

    /// Sends `command` and returns its error code, failing the test if it succeeded.
    pub fn error_code(&mut self, command: Value) -> String {
        let answer = self.request(command.clone());
        assert_eq!(answer["type"], "error", "{command} -> {answer}");
        answer["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits (up to `secs`) for an event named `name` matching `pred`, reading on.
    pub fn wait_event(&mut self, name: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let found = |events: &[Value]| {
            events
                .iter()
                .find(|e| e["event"] == name && pred(e))
                .cloned()
        };
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(event) = found(&self.events) {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "no `{name}` event within {secs} s; events: {:#?}",
                self.names()
            );
            let line = self.line();
            if line["type"] == "event" {
                self.events.push(line);
            } else {
                self.unsolicited.push(line);
            }
        }
    }

    /// The names of the events received so far.
    pub fn names(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The position of the first event named `name` (for checking the order).
    pub fn position(&self, name: &str) -> usize {
        self.events
            .iter()
            .position(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no `{name}` event in {:?}", self.names()))
    }
}
