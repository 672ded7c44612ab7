//! Carrying out a command on a [`Phone`] through its public API, with a typed answer.

use std::path::PathBuf;

use lockphone_media::dtmf::event_code;

use super::message::{Command, CommandResult, ControlError, ErrorCode, TrustChoice};
use crate::call::CallOptions;
use crate::media::{AudioIn, AudioOut};
use crate::trust::{TrustDecision, TrustDecisionError};
use crate::ua::{Phone, UaError};

/// Runs a phone command (everything but `auth`, `subscribe`, `unsubscribe` and `shutdown`,
/// which belong to the connection or the daemon and are answered `invalid-request` here).
pub async fn execute(phone: &Phone, command: Command) -> Result<CommandResult, ControlError> {
    let done = Ok(CommandResult::Done {});
    match command {
        Command::Register => {
            phone.register();
            done
        }
        Command::Unregister => {
            phone.unregister();
            done
        }
        Command::Call { uri, play, record } => {
            let options = options(play.as_deref(), record.as_deref())?;
            let call = phone.dial(&uri, options).await.map_err(ua_error)?;
            Ok(CommandResult::Call { call })
        }
        Command::Answer { call, play, record } => {
            let options = options(play.as_deref(), record.as_deref())?;
            phone.answer(call, options).await.map_err(ua_error)?;
            done
        }
        Command::Reject { call, status } => {
            phone
                .reject(call, status.unwrap_or(603))
                .await
                .map_err(ua_error)?;
            done
        }
        Command::Hangup { call } => {
            phone.try_hangup(call).await.map_err(ua_error)?;
            done
        }
        Command::Hold { call } | Command::Resume { call } => {
            let hold = matches!(command, Command::Hold { .. });
            phone.try_hold(call, hold).await.map_err(ua_error)?;
            done
        }
        Command::Mute { call, on } => {
            phone.mute(call, on).await.map_err(ua_error)?;
            done
        }
        Command::Dtmf { call, digits } => {
            if digits.is_empty() || !digits.chars().all(|c| event_code(c).is_some()) {
                return Err(ControlError::new(
                    ErrorCode::InvalidArguments,
                    "`dtmf`: digits are 0-9, *, #, A-D (at least one)",
                ));
            }
            phone.try_send_dtmf(call, &digits).await.map_err(ua_error)?;
            done
        }
        Command::Transfer { call, target } => {
            phone.transfer(call, &target).await.map_err(ua_error)?;
            done
        }
        Command::Trust { server, decision } => {
            let decision = match decision {
                TrustChoice::Always => TrustDecision::AlwaysTrust,
                TrustChoice::Continue => TrustDecision::Continue,
                TrustChoice::Cancel => TrustDecision::Cancel,
            };
            phone.decide_trust(&server, decision).map_err(ua_error)?;
            done
        }
        Command::Status => {
            let status = phone.status().await.map_err(ua_error)?;
            Ok(CommandResult::Status(Box::new(status)))
        }
        Command::Auth { .. }
        | Command::Subscribe { .. }
        | Command::Unsubscribe
        | Command::Shutdown => Err(ControlError::new(
            ErrorCode::InvalidRequest,
            "this command belongs to a daemon connection, not to the phone",
        )),
    }
}

/// The options of `call` and `answer`: the default (a 440 Hz tone, nothing recorded) where a
/// field is absent.
fn options(play: Option<&str>, record: Option<&str>) -> Result<CallOptions, ControlError> {
    let mut options = CallOptions::default();
    if let Some(play) = play {
        options.play = audio_in(play)?;
    }
    if let Some(record) = record {
        options.record = audio_out(record)?;
    }
    Ok(options)
}

/// `tone:HZ`, `silence`, `file:PATH` or `device[:NAME]`.
pub fn audio_in(text: &str) -> Result<AudioIn, ControlError> {
    let invalid = |why: &str| {
        ControlError::new(
            ErrorCode::InvalidArguments,
            format!("`play` {why}: give tone:HZ, silence, file:PATH or device[:NAME]"),
        )
    };
    match text.split_once(':') {
        None if text == "silence" => Ok(AudioIn::Silence),
        None if text == "device" => Ok(AudioIn::Device(None)),
        Some(("tone", hz)) => match hz.parse::<f64>() {
            Ok(hz) if (20.0..=20000.0).contains(&hz) => Ok(AudioIn::Tone { frequency_hz: hz }),
            _ => Err(invalid("needs a frequency of 20 to 20000 Hz")),
        },
        Some(("file", path)) if !path.is_empty() => Ok(AudioIn::File(PathBuf::from(path))),
        Some(("device", name)) if !name.is_empty() => Ok(AudioIn::Device(Some(name.to_owned()))),
        _ => Err(invalid("is not understood")),
    }
}

/// `file:PATH` or `device[:NAME]`.
pub fn audio_out(text: &str) -> Result<AudioOut, ControlError> {
    match text.split_once(':') {
        None if text == "device" => Ok(AudioOut::Device(None)),
        Some(("file", path)) if !path.is_empty() => Ok(AudioOut::File(PathBuf::from(path))),
        Some(("device", name)) if !name.is_empty() => Ok(AudioOut::Device(Some(name.to_owned()))),
        _ => Err(ControlError::new(
            ErrorCode::InvalidArguments,
            "`record` is not understood: give file:PATH or device[:NAME]",
        )),
    }
}

/// The answer for a phone error.
fn ua_error(error: UaError) -> ControlError {
    let code = match &error {
        UaError::NoSuchCall(_) => ErrorCode::NoSuchCall,
        UaError::CallState(_) => ErrorCode::WrongState,
        UaError::Invalid(_) | UaError::Config(_) | UaError::AudioFile { .. } => {
            ErrorCode::InvalidArguments
        }
        UaError::Stopped => ErrorCode::Stopped,
        UaError::Trust(TrustDecisionError::NothingPending { .. }) => ErrorCode::WrongState,
        UaError::Trust(TrustDecisionError::FipsForbidsOverride { .. }) => ErrorCode::NotSupported,
        _ => ErrorCode::Failed,
    };
    ControlError::new(code, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::CallId;

    #[test]
    fn audio_specs_parse_or_say_what_is_accepted() {
        assert_eq!(audio_in("silence").unwrap(), AudioIn::Silence);
        assert_eq!(
            audio_in("tone:1000").unwrap(),
            AudioIn::Tone {
                frequency_hz: 1000.0
            }
        );
        assert_eq!(
            audio_in("file:/tmp/a.wav").unwrap(),
            AudioIn::File(PathBuf::from("/tmp/a.wav"))
        );
        assert_eq!(audio_in("device").unwrap(), AudioIn::Device(None));
        for bad in ["tone:5", "tone:x", "file:", "loud", ""] {
            let e = audio_in(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArguments, "{bad}");
        }
        assert_eq!(
            audio_out("file:out.wav").unwrap(),
            AudioOut::File(PathBuf::from("out.wav"))
        );
        assert!(audio_out("null").is_err());
    }

    #[test]
    fn phone_errors_keep_their_kind() {
        assert_eq!(
            ua_error(UaError::NoSuchCall(CallId(4))).code,
            ErrorCode::NoSuchCall
        );
        assert_eq!(
            ua_error(UaError::CallState("x".to_owned())).code,
            ErrorCode::WrongState
        );
        assert_eq!(ua_error(UaError::Stopped).code, ErrorCode::Stopped);
        let unreadable = UaError::AudioFile {
            path: "/nowhere/in.wav".into(),
            reason: "no such file".to_owned(),
        };
        assert_eq!(ua_error(unreadable).code, ErrorCode::InvalidArguments);
        assert_eq!(
            ua_error(UaError::Unreachable("x".to_owned())).code,
            ErrorCode::Failed
        );
    }
}
