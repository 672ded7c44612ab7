//! The tokio edge of one call's audio: a UDP port pair, the sans-IO
//! [`MediaPipeline`](lockphone_media::pipeline::MediaPipeline) driven by a paced clock, an
//! audio source and an audio sink.
//!
//! ```text
//! MediaSocket::bind ─▶ (SDP offer/answer) ─▶ MediaSession::start(socket, MediaParams, AudioIn, AudioOut)
//!    task: every 20 ms (Pacer on tokio time): source ─▶ push_capture_frame; every 10 ms: pull_playout_samples ─▶ sink
//!          every datagram on either port ─▶ handle_packet_mut;  poll_timeout ─▶ handle_timeout
//!          poll_transmit ─▶ RTP to remote_rtp, RTCP to remote_rtcp (or remote_rtp with rtcp-mux)
//! MediaSession::update (re-INVITE) · send_dtmf · stats (watch) · stop ─▶ MediaReport
//! ```
//!
//! Choices:
//! - **Ports**: always an even RTP port and RTP + 1 for RTCP, bound before the SDP is
//!   written; both are read whether rtcp-mux was agreed or not.
//! - **Source addresses**: packets are processed whatever address they come from (a NAT or a
//!   relay may change it; SRTP authenticates the content) and those from unexpected addresses
//!   are counted. There is no latching: we keep sending where the SDP said, so a stranger's
//!   packets cannot redirect the stream.
//! - **Nothing received ends the call**: garbage, SRTP authentication failures, replays and
//!   the clear RTCP some peers send on SRTP sessions are dropped and counted.
//! - **Re-INVITE**: same codec and payload types keep the pipeline (SSRC, sequence numbers,
//!   codec and jitter buffer state). Same keys keep the SRTP contexts (ROC, replay windows);
//!   new keys are swapped into them (ROC 0 under the new keys; the far end's old keys pass
//!   for 2 s, for the packets it sent before it switched). Another codec, other payload
//!   types, or SRTP on/off build a new pipeline (after a BYE for the old SSRC), whose
//!   counters are added to the session's totals.
//! - **Stop** sends a last SRTCP compound SR/RR + SDES + BYE.
//! - **Pacing**: headless sources and sinks (tone, silence, WAV, null) run one frame per
//!   20 ms tick of a drift-free [`Pacer`](lockphone_media::audio::Pacer) on tokio time; a
//!   sound card's capture is read whenever it has whole frames.
//!
//! ```no_run
//! # async fn f() -> Result<(), lockphone::media::MediaError> {
//! use lockphone::media::{AudioIn, AudioOut, MediaParams, MediaSession, MediaSocket};
//! use lockphone_media::codec::Codec;
//!
//! let socket = MediaSocket::bind("127.0.0.1".parse().unwrap()).await?;
//! // ... the offer carries socket.local_addr(); the answer gives the far end's address ...
//! let params = MediaParams {
//!     remote_rtp: "127.0.0.1:40000".parse().unwrap(),
//!     remote_rtcp: "127.0.0.1:40001".parse().unwrap(),
//!     rtcp_mux: false,
//!     codec: Codec::Pcmu,
//!     payload_type: 0,
//!     telephone_event: Some(101),
//!     srtp: None,
//!     send: true,
//!     receive: true,
//! };
//! let session = MediaSession::start(socket, params, AudioIn::Tone { frequency_hz: 440.0 }, AudioOut::Null)?;
//! session.send_dtmf('5')?;
//! let report = session.stop().await;
//! println!("{}", report.stats.packets_sent);
//! # Ok(()) }
//! ```

mod audio_io;
mod driver;
mod error;
mod params;
mod session;
mod socket;
mod stats;

pub use audio_io::{AudioIn, AudioOut, ReceivedAudio};
pub use error::MediaError;
pub use params::{MediaParams, SrtpParams};
pub use session::{MediaSession, SessionOptions};
pub use socket::MediaSocket;
pub use stats::{MediaReport, MediaStats};
