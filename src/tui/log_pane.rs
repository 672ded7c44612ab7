//! `tracing` output into the log pane instead of stderr (which would tear the screen).

use std::io::Write;

use tokio::sync::mpsc::UnboundedSender;
use tracing_subscriber::fmt::MakeWriter;

use super::input::Input;

/// A `MakeWriter` sending each formatted line to the UI as [`Input::Log`].
#[derive(Clone)]
pub struct PaneWriter {
    tx: UnboundedSender<Input>,
}

impl PaneWriter {
    /// Lines go to `tx`.
    pub fn new(tx: UnboundedSender<Input>) -> PaneWriter {
        PaneWriter { tx }
    }
}

/// One record being written.
pub struct LineWriter {
    tx: UnboundedSender<Input>,
    buffer: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        // The record's buffer becomes the line (copied only if it is not UTF-8).
        let mut text = match String::from_utf8(std::mem::take(&mut self.buffer)) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        text.truncate(text.trim_end().len());
        if !text.is_empty() {
            let _ = self.tx.send(Input::Log(text));
        }
    }
}

impl<'a> MakeWriter<'a> for PaneWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            tx: self.tx.clone(),
            buffer: Vec::new(),
        }
    }
}

/// Sends `tracing` records (at `filter`, e.g. `lockphone=warn`) to the log pane. Does nothing if
/// a subscriber is already installed.
pub fn install(tx: UnboundedSender<Input>, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(PaneWriter::new(tx))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_is_one_trimmed_line_and_empty_ones_are_dropped() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let pane = PaneWriter::new(tx);
        for parts in [
            &[&b"WARN lockphone: "[..], b"no route\n"][..],
            &[b" \n"],
            &[b"bad \xff\n"],
        ] {
            let mut writer = pane.make_writer();
            for part in parts {
                writer.write_all(part).unwrap();
            }
        }
        let lines: Vec<String> = std::iter::from_fn(|| match rx.try_recv() {
            Ok(Input::Log(line)) => Some(line),
            _ => None,
        })
        .collect();
        assert_eq!(lines, ["WARN lockphone: no route", "bad \u{fffd}"]);
    }
}
