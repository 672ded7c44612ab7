//! Compound RTCP parsing: never panics, and what parses can be written and parsed again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone_media::rtcp::{RtcpPacket, parse_compound};

fuzz_target!(|data: &[u8]| {
    let Ok(packets) = parse_compound(data) else {
        return;
    };
    let known: Vec<&RtcpPacket> = packets
        .iter()
        .filter(|p| !matches!(p, RtcpPacket::Other { .. }))
        .collect();
    if known.is_empty() {
        return;
    }
    let mut out = Vec::new();
    for packet in &known {
        packet.write(&mut out);
    }
    let again = parse_compound(&out).expect("written RTCP parses");
    assert_eq!(again.len(), known.len());
    for (a, b) in again.iter().zip(&known) {
        // Reports survive unchanged (up to 31 blocks; more cannot be counted on the wire).
        if let (RtcpPacket::ReceiverReport(a), RtcpPacket::ReceiverReport(b)) = (a, b) {
            assert_eq!(a, b);
        }
        if let (RtcpPacket::SenderReport(a), RtcpPacket::SenderReport(b)) = (a, b) {
            assert_eq!(a, b);
        }
    }
});
