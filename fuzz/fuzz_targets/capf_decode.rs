//! Feeds the input to the CAPF client as bytes from a server, whole and in 3-byte pieces,
//! answering every action; also decodes each frame as a server message and re-encodes it.
#![no_main]

use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use lockphone::capf::client::{Action, Client, ClientOptions, Credentials, Output};
use lockphone::capf::keys::{DeviceKey, KeyKind};
use lockphone::capf::message::{Curve, ServerMessage, tag};
use lockphone::capf::wire::FrameDecoder;

fn drain(client: &mut Client) {
    while let Some(output) = client.poll_output() {
        match output {
            Output::Transmit(bytes) => {
                // What we send is valid CAPF with only the tags capfd accepts.
                let mut decoder = FrameDecoder::default();
                decoder.push(&bytes);
                let frame = decoder
                    .next_frame()
                    .expect("our frames decode")
                    .expect("our frames are complete");
                assert!(!decoder.has_partial());
                for element in &frame.elements {
                    assert!(tag::FROM_CLIENT.contains(&element.tag), "sent tag {}", element.tag);
                }
            }
            Output::Action(Action::GenerateKey(kind)) => {
                // EC instead of slow RSA: the client checks the kind only in the certificate.
                let _ = kind;
                client.key_generated(DeviceKey::generate(KeyKind::Ec(Curve::P256)));
            }
            Output::Action(Action::StoreCertificate { .. }) => {
                assert!(client.take_new_key().is_some());
                client.certificate_stored(Ok(()));
            }
            Output::Action(Action::FetchCertificate) => client.certificate_fetched(Some(vec![0x30, 0])),
            Output::Action(Action::DeleteCertificate) => client.certificate_deleted(Ok(true)),
            Output::Progress(_) => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The decoder: frames re-encode to the bytes they came from.
    let mut decoder = FrameDecoder::default();
    decoder.push(data);
    let mut consumed = 0;
    while let Ok(Some(frame)) = decoder.next_frame() {
        let bytes = frame.encode().expect("a decoded frame encodes");
        assert_eq!(&data[consumed..consumed + bytes.len()], &bytes[..]);
        consumed += bytes.len();
        let _ = ServerMessage::decode(&frame);
    }

    // The client, whole and piecewise: the same result either way.
    let now = SystemTime::now();
    let mut results = Vec::new();
    for piece in [data.len().max(1), 3] {
        let mut client = Client::new(ClientOptions::new("SEP0A0B0C0D0E0F"), Credentials::None);
        for chunk in data.chunks(piece) {
            client.handle_bytes(chunk, now);
            drain(&mut client);
        }
        client.handle_close();
        drain(&mut client);
        let result = client.result().expect("a closed session has a result").clone();
        results.push(result.map_err(|e| e.to_string()));
    }
    assert_eq!(results[0], results[1]);
});
