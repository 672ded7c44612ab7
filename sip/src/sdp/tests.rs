//! Round trips on real-world offers and the whole-body parser's errors.

use super::*;

const KEY_30: &str = "HkNojbLX/CFGa5C12v8kSW6TuN0CJ0xxlrvgBSpP";
const KEY_46: &str = "LlN4ncLnDDFWe6DF6g80WX6jyO0SN1yBpsvwFTpfhKnO8xg9Yoes0fYbQGWKrw==";
const KEY_28: &str = "HEFmi7DV+h9EaY6z2P0iR2yRttsAJUpvlLneAw==";
const KEY_44: &str = "LFF2m8DlCi9UeZ7D6A0yV3yhxusQNVp/pMnuEzhdgqfM8RY7YIWqz/QZPmM=";

fn baresip_offer() -> String {
    format!(
        "v=0\r\n\
o=- 1618410238 2095839153 IN IP4 192.168.1.10\r\n\
s=-\r\n\
c=IN IP4 192.168.1.10\r\n\
t=0 0\r\n\
m=audio 10000 RTP/SAVP 96 0 8 101\r\n\
b=AS:64\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtcp-mux\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n\
a=label:1\r\n\
a=ssrc:3066498391 cname:baresip@host\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}\r\n"
    )
}

fn sipp_offer() -> String {
    format!(
        "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/SAVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}|2^20|1:4\r\n\
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{KEY_30}|2^20|1:4\r\n\
a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:{KEY_46}|2^20|1:4\r\n\
a=crypto:4 AES_256_CM_HMAC_SHA1_32 inline:{KEY_46}|2^20|1:4\r\n"
    )
}

fn cucm_offer() -> String {
    format!(
        "v=0\r\n\
o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.1.1.1\r\n\
s=SIP Call\r\n\
c=IN IP4 10.1.1.20\r\n\
b=TIAS:64000\r\n\
b=AS:64\r\n\
t=0 0\r\n\
a=cisco-mari:v1\r\n\
a=cisco-mari-rate\r\n\
m=audio 24580 RTP/SAVP 0 8 18 101\r\n\
c=IN IP4 10.1.1.30\r\n\
b=TIAS:64000\r\n\
a=ptime:20\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:18 G729/8000\r\n\
a=fmtp:18 annexb=no\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=crypto:1 AEAD_AES_256_GCM inline:{KEY_44}\r\n\
a=crypto:2 AEAD_AES_128_GCM inline:{KEY_28}\r\n\
a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}\r\n\
a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:{KEY_30}\r\n\
a=sendonly\r\n\
a=trafficclass:conversational.audio.avconf.aq:admitted\r\n\
m=video 0 RTP/SAVP 126\r\n\
a=rtpmap:126 H264/90000\r\n"
    )
}

fn round_trip(text: &str) -> SessionDescription {
    let sdp: SessionDescription = text.parse().unwrap();
    assert_eq!(sdp.to_string(), text);
    let lf = text.replace("\r\n", "\n");
    let from_lf: SessionDescription = lf.parse().unwrap();
    assert_eq!(from_lf, sdp);
    sdp
}

#[test]
fn baresip_offer_round_trips() {
    let sdp = round_trip(&baresip_offer());
    assert_eq!(sdp.origin.session_version, 2_095_839_153);
    let audio = &sdp.media[0];
    assert_eq!(audio.proto, "RTP/SAVP");
    assert!(audio.is_srtp());
    assert_eq!(audio.payload_types().collect::<Vec<_>>(), [96, 0, 8, 101]);
    let opus = audio.rtpmap(96).unwrap();
    assert_eq!(
        (opus.encoding.as_str(), opus.clock_rate, opus.channels),
        ("opus", 48000, Some(2))
    );
    assert_eq!(audio.fmtp(101), Some("0-15"));
    assert!(audio.rtcp_mux());
    assert_eq!(sdp.direction(audio), Direction::SendRecv);
    assert_eq!(audio.crypto().count(), 1);
    assert!(audio.attributes.contains(&Attribute::Other {
        name: "label".into(),
        value: Some("1".into())
    }));
}

#[test]
fn sipp_offer_with_four_crypto_lines_round_trips() {
    let sdp = round_trip(&sipp_offer());
    let audio = &sdp.media[0];
    let suites: Vec<_> = audio.crypto().map(|c| (c.tag, c.suite.clone())).collect();
    assert_eq!(
        suites,
        [
            (1, SdesSuite::AesCm128HmacSha1_80),
            (2, SdesSuite::AesCm128HmacSha1_32),
            (3, SdesSuite::Aes256CmHmacSha1_80),
            (4, SdesSuite::Aes256CmHmacSha1_32),
        ]
    );
    assert!(audio.crypto().all(|c| c.key_params[0].mki
        == Some(Mki {
            value: 1,
            length: 4
        })));
    assert_eq!(audio.rtpmap(8), None);
}

#[test]
fn cucm_gcm_offer_round_trips() {
    let sdp = round_trip(&cucm_offer());
    assert_eq!(sdp.bandwidths.len(), 2);
    let audio = &sdp.media[0];
    assert_eq!(sdp.connection_address(audio), Some("10.1.1.30"));
    assert_eq!(sdp.direction(audio), Direction::SendOnly);
    let video = &sdp.media[1];
    assert_eq!(video.port, 0);
    assert_eq!(sdp.connection_address(video), Some("10.1.1.20"));
    assert_eq!(sdp.direction(video), Direction::SendRecv);
    let gcm = audio.crypto().next().unwrap();
    assert_eq!(gcm.suite, SdesSuite::AeadAes256Gcm);
    assert_eq!(gcm.key().unwrap().len(), 44);
}

#[test]
fn unknown_lines_and_attributes_are_kept_verbatim() {
    let text = "v=0\r\no=- 1 2 IN IP6 ::1\r\ns= \r\ni=info\r\nu=http://example.com\r\ne=a@example.com\r\n\
c=IN IP6 ::1\r\nt=0 0\r\nr=7d 1h 0 25h\r\nz=2882844526 -1h\r\nk=prompt\r\ny=0123456789\r\na=group:BUNDLE 0\r\n\
m=audio 5004/2 RTP/AVP 0\r\ni=voice\r\nk=clear:xyz\r\nx=unknown\r\na=ptime:020\r\na=rtpmap:0  PCMU/8000\r\n\
a=weird: spaced value \r\na=flag\r\na=sendrecv:\r\n";
    let sdp = round_trip(text);
    assert_eq!(sdp.timing[0].repeats, ["7d 1h 0 25h"]);
    assert_eq!(sdp.media[0].port_count, Some(2));
    // Non-canonical known attributes stay verbatim.
    assert_eq!(sdp.media[0].rtpmap(0), None);
    assert!(
        matches!(&sdp.media[0].attributes[0], Attribute::Other { name, .. } if name == "ptime")
    );
    assert_eq!(sdp.media[0].direction(), None);
    let redacted = sdp.redacted();
    assert!(redacted.contains("k=<redacted>\r\n") && !redacted.contains("xyz"));
}

#[test]
fn direction_falls_back_to_the_session() {
    let sdp: SessionDescription =
        "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=inactive\nm=audio 1 RTP/AVP 0\n"
            .parse()
            .unwrap();
    assert_eq!(sdp.direction(&sdp.media[0]), Direction::Inactive);
    assert_eq!(sdp.connection_address(&sdp.media[0]), None);
}

#[test]
fn redacted_hides_every_key() {
    for text in [baresip_offer(), sipp_offer(), cucm_offer()] {
        let sdp: SessionDescription = text.parse().unwrap();
        let redacted = sdp.redacted();
        for key in [KEY_30, KEY_46, KEY_28, KEY_44] {
            assert!(!redacted.contains(key), "{redacted}");
        }
        assert!(redacted.contains("inline:<redacted>"));
        assert!(!format!("{sdp:?}").contains(KEY_30));
        // Everything else is untouched.
        assert_eq!(redacted.lines().count(), text.lines().count());
    }
    let sipp: SessionDescription = sipp_offer().parse().unwrap();
    assert!(sipp.redacted().contains("inline:<redacted>|2^20|1:4\r\n"));
}

#[test]
fn generated_crypto_goes_into_an_answer() {
    let mut sdp: SessionDescription = baresip_offer().parse().unwrap();
    let mut rng = rand::rng();
    let crypto = CryptoAttribute::generate(1, SdesSuite::AeadAes128Gcm, &mut rng).unwrap();
    sdp.media[0]
        .attributes
        .retain(|a| !matches!(a, Attribute::Crypto(_)));
    sdp.media[0]
        .attributes
        .push(Attribute::Crypto(crypto.clone()));
    let again: SessionDescription = sdp.to_string().parse().unwrap();
    assert_eq!(again.media[0].crypto().next(), Some(&crypto));
}

#[test]
fn gcm_42_byte_key_in_an_offer_names_the_line() {
    let text = cucm_offer().replace(
        KEY_44,
        "Kk90mb7jCC1Sd5zB5gswVXqfxOkOM1h9osfsETZbgKXK7xQ5XoOozfIX",
    );
    let err = text.parse::<SessionDescription>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "SDP line 20: invalid `a=crypto`: AEAD_AES_256_GCM needs 44 bytes of key+salt, got 42"
    );
}

#[test]
fn malformed_bodies_are_errors_naming_the_line() {
    let head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
    let cases: Vec<(String, SdpError)> = vec![
        (String::new(), SdpError::Empty),
        ("\r\n\r\n".into(), SdpError::Empty),
        (
            "v=1\r\n".into(),
            SdpError::Invalid {
                line: 1,
                kind: 'v',
                reason: "only version 0 exists".into(),
            },
        ),
        (
            "o=- 1 1 IN IP4 x\r\n".into(),
            SdpError::OutOfOrder {
                line: 1,
                expected: 'v',
                found: 'o',
            },
        ),
        ("v=0\r\n".into(), SdpError::Missing { kind: 'o' }),
        (
            "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\n".into(),
            SdpError::Missing { kind: 't' },
        ),
        (
            format!("{head}A=foo\r\n"),
            SdpError::Syntax {
                line: 5,
                start: "A=foo".into(),
            },
        ),
        (
            format!("{head}a\r\n"),
            SdpError::Syntax {
                line: 5,
                start: "a".into(),
            },
        ),
        (
            format!("{head}\r\na=x\r\n"),
            SdpError::BlankLine { line: 5 },
        ),
        (
            format!("{head}a=x\ry\r\n"),
            SdpError::ControlCharacter { line: 5 },
        ),
        (
            format!("{head}s=again\r\n"),
            SdpError::Duplicate { line: 5, kind: 's' },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP 0\r\nt=0 0\r\n"),
            SdpError::NotInMedia { line: 6, kind: 't' },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP 0\r\nc=IN IP4 a\r\nc=IN IP4 b\r\n"),
            SdpError::Duplicate { line: 7, kind: 'c' },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nr=1\r\n".into(),
            SdpError::RepeatWithoutTiming { line: 4 },
        ),
        (
            format!("{head}a=crypto:1 AES_CM_128_HMAC_SHA1_80\r\n"),
            SdpError::Crypto {
                line: 5,
                source: CryptoError::Missing("key parameters"),
            },
        ),
        (
            format!("{head}a=:x\r\n"),
            SdpError::Invalid {
                line: 5,
                kind: 'a',
                reason: "empty attribute name".into(),
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            text.parse::<SessionDescription>().unwrap_err(),
            expected,
            "{text:?}"
        );
    }
    let invalid = [
        "v=0\r\no=- 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\no=- x 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0\r\n",
        "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nc=IN IP4\r\n",
        "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nb=AS\r\n",
        "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nb=AS:x\r\n",
        "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP\r\n",
        "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=audio 1/x RTP/AVP 0\r\n",
    ];
    for text in invalid {
        let err = text.parse::<SessionDescription>().unwrap_err();
        assert!(matches!(err, SdpError::Invalid { .. }), "{text:?}: {err}");
        assert!(err.to_string().starts_with("SDP line "), "{err}");
    }
}
