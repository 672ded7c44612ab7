//! The JSON-lines report of `loop` and `answer --report FILE|-`: one line per call, then the
//! summary.

use std::io::Write;
use std::path::Path;

use lockphone::harness::{CallTracker, LoopSummary, ReportLine, SummaryBuilder, TrackerUpdate};
use lockphone::ua::Event;

/// Where report lines go.
pub(crate) struct ReportWriter {
    out: Option<Box<dyn Write + Send>>,
    to_stdout: bool,
    error: Option<String>,
}

impl ReportWriter {
    /// `None`: no report; `-`: stdout; else the file (created or truncated).
    pub(crate) fn open(target: Option<&Path>) -> Result<ReportWriter, String> {
        let (out, to_stdout): (Option<Box<dyn Write + Send>>, bool) = match target {
            None => (None, false),
            Some(path) if path.as_os_str() == "-" => (Some(Box::new(std::io::stdout())), true),
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|e| {
                    format!(
                        "cannot write the report to {}: {e}; choose a writable path or `-`",
                        path.display()
                    )
                })?;
                (Some(Box::new(std::io::BufWriter::new(file))), false)
            }
        };
        Ok(ReportWriter {
            out,
            to_stdout,
            error: None,
        })
    }

    /// Whether the report goes to stdout (so text goes to stderr).
    pub(crate) fn is_stdout(&self) -> bool {
        self.to_stdout
    }

    /// Writes one line (and flushes, so a reader following the file sees each call).
    pub(crate) fn write(&mut self, line: &ReportLine<'_>) {
        let Some(out) = &mut self.out else { return };
        let result = serde_json::to_string(line)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                writeln!(out, "{text}")
                    .and_then(|()| out.flush())
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = result
            && self.error.is_none()
        {
            eprintln!("lockphone: cannot write the report: {e}");
            self.error = Some(e);
        }
    }
}

/// Reports of the calls a phone answers (`answer --report`): a tracker, the writer, counts.
pub(crate) struct AnswerReports {
    tracker: CallTracker,
    summary: SummaryBuilder,
    writer: ReportWriter,
    started: std::time::Instant,
}

impl AnswerReports {
    pub(crate) fn new(writer: ReportWriter) -> AnswerReports {
        AnswerReports {
            tracker: CallTracker::new(false),
            summary: SummaryBuilder::default(),
            writer,
            started: std::time::Instant::now(),
        }
    }

    /// Feeds an event; writes the report of a call that ended.
    pub(crate) fn handle(&mut self, event: &Event) {
        if let Some(TrackerUpdate::Ended(report)) = self.tracker.handle(event) {
            self.summary.add(&report);
            self.writer.write(&ReportLine::Call(&report));
        }
    }

    /// Writes the summary line and returns the summary.
    pub(crate) fn finish(mut self) -> LoopSummary {
        let summary = self.summary.summary(self.started.elapsed());
        self.writer.write(&ReportLine::Summary(&summary));
        summary
    }
}
