//! The terminal UI (`lockphone ui`, or `lockphone` alone on a terminal): ratatui + crossterm
//! on top of the public API only ([`Phone`], [`Event`](crate::ua::Event), verdicts, statistics,
//! the directory).
//!
//! - [`state`]: the pure state and its reducer (keys and events in, [`Action`]s out);
//! - [`view`]: drawing the state (tested on ratatui's `TestBackend`);
//! - `driver`: the event loop merging the keyboard, the phone's events and a tick, carrying
//!   out the actions; `terminal` restores the screen on exit, error, Ctrl-C and panic.

pub mod action;
pub mod describe;
mod driver;
pub mod input;
mod keyboard;
pub mod log_pane;
mod ops;
pub mod state;
mod terminal;
pub mod view;

pub use action::{Action, AudioChoice};
pub use input::{ContactHit, DeviceEntry, Input, Key};
pub use state::App;

use crate::config::AccountConfig;
use crate::contacts::Directory;
use crate::ua::{Phone, UaError};

/// Why the UI could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TuiError {
    /// The user agent could not start.
    #[error(transparent)]
    Phone(#[from] UaError),
    /// The terminal could not be set up or drawn on.
    #[error("terminal: {0} (is this a terminal? use `lockphone call` in scripts)")]
    Terminal(std::io::Error),
}

/// What the UI runs with.
#[derive(Clone)]
pub struct UiOptions {
    /// The account.
    pub account: AccountConfig,
    /// The audio of calls until the user picks another.
    pub audio: AudioChoice,
    /// The contacts searched with `/` and for completion (config entries and LDAP).
    pub directory: Option<Directory>,
    /// The `tracing` filter of the log pane (`lockphone=warn`).
    pub log_filter: String,
}

/// Runs the UI for one account until the user quits.
pub async fn run(options: UiOptions) -> Result<(), TuiError> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    log_pane::install(tx.clone(), &options.log_filter);
    let account = &options.account;
    let phone = Phone::start(account).await?;
    let listening = if account.calls.listen.is_some() {
        Some(phone.listen().await?.to_string())
    } else {
        None
    };
    let mut app = App::new(
        state::AccountInfo {
            name: account.name.clone(),
            aor: account.aor.clone(),
            registers: account.register,
            listening,
        },
        crate::tls::fips_mode(),
        &describe::audio(&options.audio),
    );
    app.log_line(format!("account {}: audio {}", account.name, app.audio));
    if account.register {
        phone.register();
    }
    driver::run(phone, app, options, tx, rx).await
}
