//! Writes a capture of SDES-SRTP media for an independent check of Lockphone's SRTP.
//!
//! ```sh
//! cargo run -p lockphone-media --example srtp_pcap -- AEAD_AES_256_GCM /tmp/call.pcap /tmp/call.sdp
//! /work/shared/peers/verify/srtp_check.py /tmp/call.pcap /tmp/call.sdp
//! ```
//!
//! Two endpoints (127.0.0.1:40000 and 127.0.0.1:40002) each send 200 protected RTP packets
//! (160-byte payloads, sequence numbers crossing the 16-bit wrap so the ROC rolls over) and
//! a few SRTCP sender reports from port + 1, each with its own key. The second file holds the
//! two SDP bodies with their `a=crypto` lines, as a SIP trace would.

use std::error::Error;
use std::fs;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lockphone_media::rtcp::{NtpTime, SenderInfo, SenderReport, compound_sr_sdes};
use lockphone_media::rtp::Packetizer;
use lockphone_media::srtp::{SrtpContext, SrtpKeys, SrtpSuite};
use rand::SeedableRng;

const PACKETS: u32 = 200;
const FIRST_SEQ: u16 = 65_450;
/// A fixed capture time (no clock is read): 2026-01-01T00:00:00Z.
const BASE_SECONDS: u32 = 1_767_225_600;

/// A classic libpcap file with Ethernet framing.
struct Pcap {
    bytes: Vec<u8>,
}

impl Pcap {
    fn new() -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        for word in [0u32, 0, 65_535, 1] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        Self { bytes }
    }

    /// Appends one IPv4/UDP datagram on 127.0.0.1 sent `micros` after the base time.
    fn udp(&mut self, micros: u64, sport: u16, dport: u16, payload: &[u8]) {
        let udp_len = 8 + payload.len();
        let ip_len = 20 + udp_len;
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        let sum = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum::<u32>();
        let folded = (sum & 0xffff) + (sum >> 16);
        ip[10..12].copy_from_slice(&(!((folded & 0xffff) + (folded >> 16)) as u16).to_be_bytes());
        let mut frame = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00];
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&sport.to_be_bytes());
        frame.extend_from_slice(&dport.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(payload);
        let seconds = BASE_SECONDS + (micros / 1_000_000) as u32;
        for word in [
            seconds,
            (micros % 1_000_000) as u32,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            self.bytes.extend_from_slice(&word.to_le_bytes());
        }
        self.bytes.extend_from_slice(&frame);
    }
}

/// One sending endpoint.
struct Endpoint {
    port: u16,
    keys: SrtpKeys,
    srtp: SrtpContext,
    packetizer: Packetizer,
}

impl Endpoint {
    fn new(
        suite: SrtpSuite,
        port: u16,
        rng: &mut rand::rngs::StdRng,
    ) -> Result<Self, Box<dyn Error>> {
        let keys = SrtpKeys::generate(suite, rng);
        let srtp = SrtpContext::new(&keys)?;
        let packetizer = Packetizer::from_parts(u32::from(port) * 7919, 0, FIRST_SEQ, 0);
        Ok(Self {
            port,
            keys,
            srtp,
            packetizer,
        })
    }

    fn sdp(&self) -> String {
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 {} inline:{}\r\n",
            self.port,
            self.keys.suite(),
            STANDARD.encode(self.keys.master())
        )
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, suite, pcap_path, sdp_path] = args.as_slice() else {
        return Err("usage: srtp_pcap <SDES suite name> <out.pcap> <out.sdp>".into());
    };
    let suite = SrtpSuite::from_sdes_name(suite).ok_or_else(|| format!("unknown suite {suite}"))?;
    write_capture(suite, Path::new(pcap_path), Path::new(sdp_path))?;
    println!(
        "{suite}: wrote {PACKETS} RTP + {} RTCP packets per direction to {pcap_path}, SDP to {sdp_path}",
        PACKETS / 50
    );
    Ok(())
}

/// Writes the capture and the SDP of a two-way call protected with `suite`
/// (also used by `tests/srtp_peer_check.rs`).
pub(crate) fn write_capture(
    suite: SrtpSuite,
    pcap_path: &Path,
    sdp_path: &Path,
) -> Result<(), Box<dyn Error>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut endpoints = [
        Endpoint::new(suite, 40_000, &mut rng)?,
        Endpoint::new(suite, 40_002, &mut rng)?,
    ];
    let mut pcap = Pcap::new();
    let (mut rtp, mut srtp) = (Vec::new(), Vec::new());
    for i in 0..PACKETS {
        for (n, endpoint) in endpoints.iter_mut().enumerate() {
            let payload: Vec<u8> = (0..160)
                .map(|k| (k as u8).wrapping_mul(3) ^ (i as u8))
                .collect();
            endpoint
                .packetizer
                .next_packet(&payload, 160, i == 0, &mut rtp);
            endpoint.srtp.protect_rtp(&rtp, &mut srtp)?;
            let peer = 40_002 - 2 * n as u16;
            pcap.udp(
                u64::from(i) * 20_000 + n as u64 * 500,
                endpoint.port,
                peer,
                &srtp,
            );
            if i % 50 == 49 {
                let sr = SenderReport {
                    ssrc: endpoint.packetizer.ssrc(),
                    info: SenderInfo {
                        ntp: NtpTime(u64::from(BASE_SECONDS + i / 50) << 32),
                        rtp_timestamp: endpoint.packetizer.timestamp(),
                        packet_count: i + 1,
                        octet_count: (i + 1) * 160,
                    },
                    reports: Vec::new(),
                };
                compound_sr_sdes(&sr, "srtp_pcap@127.0.0.1", &mut rtp);
                endpoint.srtp.protect_rtcp(&rtp, &mut srtp)?;
                pcap.udp(
                    u64::from(i) * 20_000 + 1_000,
                    endpoint.port + 1,
                    peer + 1,
                    &srtp,
                );
            }
        }
    }
    fs::write(pcap_path, &pcap.bytes)?;
    fs::write(
        sdp_path,
        endpoints.iter().map(Endpoint::sdp).collect::<String>(),
    )?;
    Ok(())
}
