//! The handle of a running media session.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use lockphone_media::codec::OpusConfig;
use lockphone_media::dtmf::event_code;
use lockphone_media::impair::ImpairmentSpec;
use lockphone_media::pipeline::MediaEvent;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::audio_io::{AudioIn, AudioOut, Capture, Playout};
use super::driver::{Command, Driver, Parts, build_pipeline};
use super::params::{Checked, MediaParams};
use super::stats::{MediaReport, MediaStats};
use super::{MediaError, MediaSocket};

/// Events kept for [`MediaSession::next_event`] before new ones are dropped.
const EVENT_QUEUE: usize = 64;

/// What [`MediaSession::start_with`] adds to [`MediaSession::start`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SessionOptions {
    /// The simulated network received datagrams cross first (`None`: none).
    pub impairment: Option<ImpairmentSpec>,
    /// Opus encoder settings (`None`: the defaults, complexity 10 with FEC).
    pub opus: Option<OpusConfig>,
}

/// One call's running audio: the work happens in a spawned tokio task; this is its handle.
///
/// Dropping the handle without [`MediaSession::stop`] also ends the task (and finishes the
/// output file), but the report is lost.
#[derive(Debug)]
pub struct MediaSession {
    commands: mpsc::UnboundedSender<Command>,
    stats: watch::Receiver<MediaStats>,
    events: mpsc::Receiver<MediaEvent>,
    task: JoinHandle<MediaReport>,
    telephone_event: AtomicBool,
    local_rtp: SocketAddr,
    local_rtcp: SocketAddr,
}

impl MediaSession {
    /// Opens the audio input and output, builds the pipeline and starts sending and
    /// receiving on `socket`. Must be called within a tokio runtime. Fails (never panics)
    /// if the keys do not fit the suite, a file cannot be opened, or there is no sound card
    /// (the device error names the fix).
    pub fn start(
        socket: MediaSocket,
        params: MediaParams,
        input: AudioIn,
        output: AudioOut,
    ) -> Result<MediaSession, MediaError> {
        Self::start_with(socket, params, input, output, SessionOptions::default())
    }

    /// [`MediaSession::start`] with [`SessionOptions`]: a simulated bad network every
    /// *received* datagram (RTP and RTCP) crosses first (seeded loss, bursts, jitter, delay,
    /// reordering, duplication: `lockphone_media::impair`; what it did shows in
    /// [`MediaStats::impairment`], and the same spec and seed drop the same packets of the
    /// same stream), and Opus settings other than the defaults.
    pub fn start_with(
        socket: MediaSocket,
        params: MediaParams,
        input: AudioIn,
        output: AudioOut,
        options: SessionOptions,
    ) -> Result<MediaSession, MediaError> {
        let SessionOptions { impairment, opus } = options;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MediaError::NoRuntime)?;
        let params = Checked::new(&params)?;
        // Input first: a failing sound card must not leave an empty recording behind.
        let capture = Capture::open(&input)?;
        let playout = Playout::open(&output)?;
        // A random CNAME per call (RFC 7022): nothing to link calls together.
        let cname = format!("{:016x}", rand::random::<u64>());
        let start = Instant::now();
        let pipeline = build_pipeline(&params, &cname, start, opus.as_ref())?;
        let (command_tx, commands) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::channel(EVENT_QUEUE);
        let telephone_event = AtomicBool::new(params.telephone_event.is_some());
        let (local_rtp, local_rtcp) = (socket.local_addr(), socket.rtcp_local_addr());
        let (driver, stats) = Driver::new(Parts {
            rtp: socket.rtp,
            rtcp: socket.rtcp,
            params,
            pipeline,
            cname,
            capture,
            playout,
            commands,
            events: event_tx,
            start,
            impairment,
            opus,
        });
        let task = runtime.spawn(driver.run());
        Ok(MediaSession {
            commands: command_tx,
            stats,
            events,
            task,
            telephone_event,
            local_rtp,
            local_rtcp,
        })
    }

    /// Applies a re-INVITE's outcome: a new remote address, direction (hold: `send:
    /// false`), keys or codec. The SSRC, sequence numbers and jitter buffer go on unless the
    /// codec, the payload types or SRTP on/off change (then the pipeline is rebuilt, with a
    /// new SSRC). Same SRTP keys keep the contexts (ROC, replay windows); new keys replace
    /// them in place (ROC 0), the far end's old keys still accepted for 2 s.
    pub fn update(&self, params: MediaParams) -> Result<(), MediaError> {
        let params = Checked::new(&params)?;
        let has_event = params.telephone_event.is_some();
        self.commands
            .send(Command::Update(Box::new(params)))
            .map_err(|_| MediaError::Ended)?;
        self.telephone_event.store(has_event, Ordering::Relaxed);
        Ok(())
    }

    /// Sends a DTMF key press (RFC 4733, 100 ms), after any already queued.
    pub fn send_dtmf(&self, digit: char) -> Result<(), MediaError> {
        if event_code(digit).is_none() {
            return Err(MediaError::NotADigit(digit));
        }
        if !self.telephone_event.load(Ordering::Relaxed) {
            return Err(MediaError::NoTelephoneEvent);
        }
        self.commands
            .send(Command::Dtmf(digit))
            .map_err(|_| MediaError::Ended)
    }

    /// Mutes (`true`) or unmutes what we send: while muted, silent frames are encoded and
    /// sent in place of the captured audio, so RTP keeps flowing (the far end's jitter buffer,
    /// RTCP and any media timeout see a live stream) and the call stays up.
    pub fn set_muted(&self, muted: bool) -> Result<(), MediaError> {
        self.commands
            .send(Command::Mute(muted))
            .map_err(|_| MediaError::Ended)
    }

    /// The latest statistics (published every 100 ms and after every update).
    pub fn stats(&self) -> MediaStats {
        self.stats.borrow().clone()
    }

    /// The next event from the far end: a DTMF key, a new SSRC, an RTCP BYE. `None` once
    /// the session has ended.
    pub async fn next_event(&mut self) -> Option<MediaEvent> {
        self.events.recv().await
    }

    /// Whether the session's task is still running.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }

    /// The local RTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_rtp
    }

    /// The local RTCP address (RTP port + 1).
    pub fn rtcp_local_addr(&self) -> SocketAddr {
        self.local_rtcp
    }

    /// Stops the session, finishes the output file and returns the final report.
    pub async fn stop(self) -> MediaReport {
        let MediaSession {
            commands,
            stats,
            task,
            ..
        } = self;
        // Closing the command channel is the stop signal.
        drop(commands);
        match task.await {
            Ok(report) => report,
            Err(e) => MediaReport {
                stats: stats.borrow().clone(),
                input_errors: 0,
                input_error: None,
                output_errors: 0,
                output_error: None,
                pipeline_error: None,
                failure: Some(format!("the media task ended abnormally: {e}")),
            },
        }
    }
}
