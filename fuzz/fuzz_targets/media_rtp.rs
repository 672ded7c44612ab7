//! RTP parsing: never panics, and a parsed packet written back parses to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone_media::rtp::{RtpPacket, header_len, packetize};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = RtpPacket::parse(data) else {
        return;
    };
    assert_eq!(header_len(data), Ok(packet.header_len()));
    assert!(packet.header_len() + packet.payload().len() <= data.len());
    let mut header = packet.header();
    header.padding = false;
    let mut out = Vec::new();
    packetize(&header, packet.payload(), &mut out);
    let again = RtpPacket::parse(&out).expect("a written packet parses");
    assert_eq!(again.header(), header);
    assert_eq!(again.payload(), packet.payload());
});
