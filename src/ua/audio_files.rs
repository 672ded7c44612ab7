//! The up-front check of a call's audio files: a `--play` file that cannot be read or a
//! `--record` file that cannot be created refuses the dial or answer with
//! [`UaError::AudioFile`], instead of a call that goes on without audio. (A sound card or a
//! file that only fails when the media starts fails the call: [`Event::CallFailed`](super::Event::CallFailed).)

use std::path::Path;

use super::UaError;
use crate::call::CallOptions;
use crate::media::{AudioIn, AudioOut};

/// Checks that the file to play can be read and the file to record into can be created.
pub(super) fn check_audio_files(options: &CallOptions) -> Result<(), UaError> {
    if let AudioIn::File(path) = &options.play {
        check_readable(path)?;
    }
    if let AudioOut::File(path) = &options.record {
        check_creatable(path)?;
    }
    Ok(())
}

fn check_readable(path: &Path) -> Result<(), UaError> {
    let refuse = |reason: String| UaError::AudioFile {
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| refuse(format!("cannot be read ({e})")))?;
    match file.metadata() {
        Ok(meta) if meta.is_dir() => Err(refuse("is a folder, not a WAV file".to_owned())),
        Ok(_) => Ok(()),
        Err(e) => Err(refuse(format!("cannot be read ({e})"))),
    }
}

fn check_creatable(path: &Path) -> Result<(), UaError> {
    let refuse = |reason: String| UaError::AudioFile {
        path: path.to_owned(),
        reason,
    };
    if path.is_dir() {
        return Err(refuse("is a folder: name a file to record into".to_owned()));
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(refuse(format!(
            "cannot be created: the folder {} does not exist",
            folder.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::Config;
    use crate::ua::{Event, Phone};

    #[test]
    fn unusable_files_are_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("tone.wav");
        std::fs::write(&wav, b"RIFF").unwrap();
        assert!(check_audio_files(&CallOptions::file(&wav)).is_ok());
        assert!(
            check_audio_files(&CallOptions::silence().record_to(dir.path().join("r.wav"))).is_ok()
        );
        assert!(check_audio_files(&CallOptions::silence().record_to("relative.wav")).is_ok());

        let missing = dir.path().join("missing.wav");
        let err = check_audio_files(&CallOptions::file(&missing)).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(&err, UaError::AudioFile { path, .. } if *path == missing),
            "{message}"
        );
        assert!(
            message.contains("missing.wav") && message.contains("cannot be read"),
            "{message}"
        );

        let err = check_audio_files(&CallOptions::file(dir.path())).unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        let err = check_audio_files(&CallOptions::silence().record_to(dir.path())).unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        let err =
            check_audio_files(&CallOptions::silence().record_to(dir.path().join("no/such/r.wav")))
                .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    /// Two phones on UDP loopback, bob answering automatically with `bob_options`.
    async fn phones(bob_options: CallOptions) -> (Phone, Phone, String) {
        let config = Config::from_toml(
            r#"
            [[account]]
            name = "alice"
            aor = "sip:alice@127.0.0.1"
            transport = "udp"
            register = false
            calls.srtp = "off"
            [[account]]
            name = "bob"
            aor = "sip:bob@127.0.0.1"
            transport = "udp"
            register = false
            calls.srtp = "off"
            calls.listen = "127.0.0.1:0"
            "#,
        )
        .unwrap();
        let bob = Phone::start(config.account(Some("bob")).unwrap())
            .await
            .unwrap();
        bob.auto_answer(Some(bob_options));
        let uri = format!("sip:bob@{};transport=udp", bob.listen().await.unwrap());
        let alice = Phone::start(config.account(Some("alice")).unwrap())
            .await
            .unwrap();
        (alice, bob, uri)
    }

    /// The events of `phone` until its call ends: whether it failed (with the reason) and
    /// the summary's end reason and whether it had media.
    async fn until_ended(phone: &mut Phone) -> (Option<String>, String, bool) {
        let mut failed = None;
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), phone.next_event())
                .await
                .expect("the call ends within 10 s")
                .expect("the phone runs");
            match event {
                Event::CallFailed { reason, .. } => failed = Some(reason),
                Event::CallEnded { summary, .. } => {
                    return (failed, summary.end_reason, summary.media.is_some());
                }
                _ => {}
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn audio_that_cannot_start_fails_the_call_loudly() {
        let dir = tempfile::tempdir().unwrap();
        let (mut alice, mut bob, uri) = phones(CallOptions::silence()).await;

        // Caught before dialling: nothing is sent.
        let missing = dir.path().join("missing.wav");
        let err = alice
            .dial(&uri, CallOptions::file(&missing))
            .await
            .unwrap_err();
        assert!(matches!(err, UaError::AudioFile { .. }), "{err}");

        // Only found out when the media starts (not a WAV file): the call fails and ends.
        let not_wav = dir.path().join("not.wav");
        std::fs::write(&not_wav, b"this is not a WAV file").unwrap();
        alice.dial(&uri, CallOptions::file(&not_wav)).await.unwrap();
        let (failed, end_reason, media) = until_ended(&mut alice).await;
        let failed = failed.expect("a call-failed event");
        assert!(failed.contains("audio could not start"), "{failed}");
        assert!(end_reason.starts_with("failed: "), "{end_reason}");
        assert!(!media);
        let (bob_failed, bob_end, _) = until_ended(&mut bob).await;
        assert!(bob_failed.is_none(), "bob's side simply ends: {bob_end}");

        // The callee's sound card cannot be opened: its side fails the call.
        bob.auto_answer(Some(CallOptions::device(Some(
            "no such card 4711".to_owned(),
        ))));
        alice.dial(&uri, CallOptions::silence()).await.unwrap();
        let (bob_failed, bob_end, _) = until_ended(&mut bob).await;
        let bob_failed = bob_failed.expect("a call-failed event on the callee");
        assert!(bob_failed.contains("audio device"), "{bob_failed}");
        assert!(bob_end.starts_with("failed: "), "{bob_end}");
        let (alice_failed, _, _) = until_ended(&mut alice).await;
        assert!(alice_failed.is_none());

        alice.shutdown().await;
        bob.shutdown().await;
    }
}
