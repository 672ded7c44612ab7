//! SDP parser: arbitrary bytes (UTF-8 lossy) must never panic; whatever parses must write and
//! parse back to an equal value, and `redacted()` must never panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone_sip::sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(sdp) = text.parse::<SessionDescription>() {
        let written = sdp.to_string();
        let again: SessionDescription = match written.parse() {
            Ok(again) => again,
            Err(err) => panic!("written SDP does not parse: {err}\n{written}"),
        };
        assert_eq!(again, sdp, "round trip changed the SDP:\n{written}");
        assert_eq!(again.to_string(), written);
        let _ = sdp.redacted();
    }
});
