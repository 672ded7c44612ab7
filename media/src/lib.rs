//! Lockphone's media engine.
//!
//! The core is sans-IO and clock-free: packets and audio frames go in, packets and frames come
//! out, and time is passed in. Only [`device`] (behind the default `device` feature) touches
//! the outside world, and it only moves frames through lock-free ring buffers.
#![forbid(unsafe_code)]

pub mod audio;
pub mod codec;
#[cfg(feature = "device")]
pub mod device;
pub mod dtmf;
pub mod impair;
pub mod jitter;
pub mod pipeline;
pub mod rtcp;
pub mod rtp;
pub mod srtp;
pub mod stats;
