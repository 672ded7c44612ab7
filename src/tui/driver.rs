//! The event loop: keys (a reader thread), the phone's events, results of background work and
//! a one-second tick go through [`App::update`]; its actions are carried out on the phone.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::action::{Action, AudioChoice};
use super::input::{DeviceEntry, Input};
use super::state::App;
use super::terminal::{TerminalGuard, bell};
use super::{TuiError, UiOptions, keyboard, ops, view};
use crate::call::CallOptions;
use crate::ua::Phone;

/// At most this many queued inputs are taken between two frames (the screen stays live under
/// a flood of log lines).
const MAX_INPUTS_PER_FRAME: usize = 256;

/// Runs the UI until the user quits; the terminal is restored on every way out.
pub(super) async fn run(
    phone: Phone,
    mut app: App,
    options: UiOptions,
    tx: UnboundedSender<Input>,
    mut rx: UnboundedReceiver<Input>,
) -> Result<(), TuiError> {
    let mut guard = TerminalGuard::enter().map_err(TuiError::Terminal)?;
    let stop = Arc::new(AtomicBool::new(false));
    keyboard::spawn_reader(tx.clone(), stop.clone());
    let mut call_options = call_options(&options.audio);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut terminate = terminate_signal();
    // Shared with the tasks of slow actions (a dial waits for the connection), so that the
    // screen and the keys stay live meanwhile.
    let mut phone = Arc::new(phone);
    let result = loop {
        if let Err(e) = guard.terminal.draw(|frame| view::draw(frame, &app)) {
            break Err(TuiError::Terminal(e));
        }
        let input = tokio::select! {
            event = phone.next_event_shared() => match event {
                Some(event) => Input::Phone(event),
                None => break Ok(()),
            },
            input = rx.recv() => match input {
                Some(input) => input,
                None => break Ok(()),
            },
            _ = tick.tick() => Input::Tick,
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = terminate.recv() => break Ok(()),
        };
        let mut quit = false;
        let mut restart = false;
        // What is already queued behind this input (a burst of log lines, keys typed ahead)
        // is taken before the next frame: one draw per burst, not one per line.
        let mut next = Some(input);
        let mut taken = 0;
        while let Some(input) = next.take() {
            for action in app.update(input) {
                match action {
                    Action::Quit => quit = true,
                    Action::Restart => restart = true,
                    action => perform(&phone, action, &options, &mut call_options, &tx),
                }
            }
            taken += 1;
            if !(quit || restart) && taken < MAX_INPUTS_PER_FRAME {
                next = rx.try_recv().ok();
            }
        }
        if quit {
            break Ok(());
        }
        if restart {
            phone = match restarted(phone, &options.account).await.map(Arc::new) {
                Ok(phone) => phone,
                Err(e) => {
                    // No phone left to shut down; the guard restores the terminal.
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            };
        }
    };
    stop.store(true, Ordering::Relaxed);
    drop(guard);
    eprintln!("lockphone: hanging up and unregistering…");
    if let Some(phone) = sole(phone).await {
        phone.shutdown().await;
    }
    result
}

/// The phone once no action task holds it any more (they end within seconds: a dial's
/// connection attempt is bounded); `None` if one still does after 8 s.
async fn sole(mut phone: Arc<Phone>) -> Option<Phone> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    loop {
        match Arc::try_unwrap(phone) {
            Ok(phone) => return Some(phone),
            Err(shared) if tokio::time::Instant::now() < deadline => {
                phone = shared;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => return None,
        }
    }
}

/// Stops `phone` and starts a new one for `account`, listening and registering as
/// configured.
async fn restarted(
    phone: Arc<Phone>,
    account: &crate::config::AccountConfig,
) -> Result<Phone, TuiError> {
    if let Some(phone) = sole(phone).await {
        phone.shutdown().await;
    }
    let phone = Phone::start(account).await?;
    if account.calls.listen.is_some() {
        phone.listen().await?;
    }
    if account.register {
        phone.register();
    }
    Ok(phone)
}

/// SIGTERM as a stream (never fires where it cannot be installed).
fn terminate_signal() -> UnboundedReceiver<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        #[cfg(unix)]
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            term.recv().await;
            let _ = tx.send(());
        }
    });
    rx
}

/// The call options of an audio choice.
fn call_options(audio: &AudioChoice) -> CallOptions {
    match audio {
        AudioChoice::Device(name) => CallOptions::device((name != "default").then(|| name.clone())),
        AudioChoice::Tone => CallOptions::tone(440.0),
        AudioChoice::Silence => CallOptions::silence(),
    }
}

/// Carries out one action. What waits for an answer (the phone's, the directory's, the
/// authorization server's, the sound system's) runs in its own task and reports through `tx`.
fn perform(
    phone: &Arc<Phone>,
    action: Action,
    options: &UiOptions,
    call_options: &mut CallOptions,
    tx: &UnboundedSender<Input>,
) {
    let task = |work: std::pin::Pin<Box<dyn Future<Output = Option<Input>> + Send>>| {
        let tx = tx.clone();
        tokio::spawn(async move {
            if let Some(input) = work.await {
                let _ = tx.send(input);
            }
        });
    };
    let shared = Arc::clone(phone);
    match action {
        Action::Dial(uri) => {
            let call_options = call_options.clone();
            task(Box::pin(async move {
                let result = shared
                    .dial(&uri, call_options)
                    .await
                    .map_err(|e| e.to_string());
                Some(Input::Dialed { uri, result })
            }));
        }
        Action::Hangup(call) => phone.hangup(call),
        Action::Hold(call, hold) => phone.hold(call, hold),
        Action::Dtmf(call, digits) => phone.send_dtmf(call, &digits),
        Action::Answer { call, muted } => {
            let call_options = call_options.clone();
            task(Box::pin(async move {
                failure(ops::answer(&shared, call, muted, call_options).await)
            }));
        }
        Action::Reject(call) => {
            task(Box::pin(async move {
                failure(ops::reject(&shared, call).await)
            }));
        }
        Action::Mute(call, mute) => {
            task(Box::pin(async move {
                failure(ops::mute(&shared, call, mute).await)
            }));
        }
        Action::Transfer(call, target) => {
            task(Box::pin(async move {
                failure(ops::transfer(&shared, call, &target).await)
            }));
        }
        Action::DecideTrust { server, choice } => {
            if let Some(input) = failure(ops::decide_trust(phone, &server, choice)) {
                let _ = tx.send(input);
            }
        }
        Action::Register => phone.register(),
        Action::SearchContacts(query) => {
            let directory = options.directory.clone();
            let domain = options
                .account
                .aor_uri()
                .map(|uri| uri.host.to_string())
                .unwrap_or_default();
            task(Box::pin(async move {
                let result = ops::search(directory.as_ref(), &query, &domain).await;
                Some(Input::Contacts { query, result })
            }));
        }
        Action::Login { issuer } => {
            let account = options.account.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let result = ops::login(&account, issuer, &tx).await;
                let _ = tx.send(Input::LoginDone(result));
            });
        }
        Action::ListDevices => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(Input::Devices(list_devices()));
            });
        }
        Action::UseAudio(choice) => *call_options = self::call_options(&choice),
        Action::Bell => bell(),
        // Handled by the loop.
        Action::Quit | Action::Restart => {}
    }
}

/// The log line of a failed action, if it failed.
fn failure(result: Result<(), String>) -> Option<Input> {
    result.err().map(Input::Log)
}

fn list_devices() -> Result<Vec<DeviceEntry>, String> {
    lockphone_media::device::list_devices()
        .map(|devices| {
            devices
                .into_iter()
                .filter(|d| d.input && d.output)
                .map(|d| DeviceEntry {
                    default: d.default_input || d.default_output,
                    id: if d.id.is_empty() {
                        d.name.clone()
                    } else {
                        d.id
                    },
                    name: d.name,
                })
                .collect()
        })
        .map_err(|e| e.to_string())
}
