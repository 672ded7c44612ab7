//! Feeds the input as one client line to the daemon's control-protocol parser
//! (`control::parse_request`), and writes the answer the daemon would send.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone::control::{COMMANDS, RequestId, ServerMessage, parse_request};

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let (id, answer) = match parse_request(line) {
        Ok(request) => {
            assert!(COMMANDS.contains(&request.command.name()));
            (request.id, None)
        }
        Err(rejected) => {
            let id = rejected.id.clone();
            let message = ServerMessage::Error {
                id: rejected.id,
                error: rejected.error,
            };
            (id, Some(message.to_line()))
        }
    };
    // The id given back is the one the line carried.
    if let Some(id) = &id {
        let value: serde_json::Value = serde_json::from_str(line).expect("the line was JSON");
        let sent: RequestId = serde_json::from_value(value["id"].clone()).expect("a valid id");
        assert_eq!(&sent, id);
    }
    // Every error answer is one line of JSON of type "error" echoing the id.
    if let Some(answer) = answer {
        assert!(!answer.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&answer).expect("answers are JSON");
        assert_eq!(value["type"], "error");
        let echoed: Option<RequestId> =
            serde_json::from_value(value["id"].clone()).expect("the echoed id");
        assert_eq!(echoed, id);
    }
});
