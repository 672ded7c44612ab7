//! The UI's state and its reducer: [`App::update`] takes an [`Input`] (a key, a phone event, the
//! result of an action) and returns the [`Action`]s to carry out. Pure: no terminal, no phone,
//! no clock, so every screen can be tested from a list of inputs.

mod call;
mod events;
mod field;
mod keys;

pub use call::{CallState, CallView, HISTORY, LiveStats};
pub use field::TextField;

use std::collections::VecDeque;

use super::action::{Action, AudioChoice};
use super::input::{ContactHit, DeviceEntry, Input};
use crate::call::CallId;
use crate::tls::CertificateSummary;

/// How many lines the log keeps.
const LOG_LINES: usize = 200;

/// The account as the header shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// Its name in the config.
    pub name: String,
    /// Its address of record.
    pub aor: String,
    /// Whether it registers.
    pub registers: bool,
    /// Where it listens for direct calls, if it does.
    pub listening: Option<String>,
}

/// The registration as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// The account does not register (direct calls only).
    Off,
    /// A REGISTER is on its way.
    Registering,
    /// Registered for this many seconds.
    Registered(u64),
    /// Failed, with why.
    Failed(String),
    /// Lost: re-registering.
    Lost(String),
    /// Log in again (OAuth).
    LoginRequired(String),
    /// Un-registered.
    Unregistered,
}

impl Registration {
    /// A symbol and words, readable without colour.
    pub fn words(&self) -> String {
        match self {
            Registration::Off => "○ Direct calls".to_owned(),
            Registration::Registering => "◌ Registering…".to_owned(),
            Registration::Registered(secs) => format!("● Registered ({secs} s)"),
            Registration::Failed(why) => format!("✗ Not registered: {why}"),
            Registration::Lost(why) => format!("◌ Re-registering ({why})"),
            Registration::LoginRequired(_) => "✗ Log in needed (press l)".to_owned(),
            Registration::Unregistered => "○ Unregistered".to_owned(),
        }
    }
}

/// What the keyboard is typing into, when not commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Single-key commands.
    Normal,
    /// The dial field.
    Dial(TextField),
    /// The directory search field.
    Search(TextField),
    /// The transfer target field.
    Transfer(TextField),
    /// The DTMF keypad: digits are sent on the selected call.
    Keypad,
}

/// A server certificate awaiting the user's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPrompt {
    /// The server identity.
    pub server: String,
    /// The certificate.
    pub certificate: CertificateSummary,
}

/// The OAuth login in progress, as shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginView {
    /// Lines to show (the verification URI and code, progress).
    pub lines: Vec<String>,
    /// Whether it is over.
    pub done: bool,
}

/// A window over the main screen that takes the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modal {
    /// The trust prompt.
    Trust(TrustPrompt),
    /// Directory search results: pick one to dial.
    Results {
        /// The text searched.
        query: String,
        /// What was found.
        hits: Vec<ContactHit>,
        /// The highlighted entry.
        selected: usize,
    },
    /// The OAuth login.
    Login(LoginView),
    /// Audio device selection: the devices, then "test tone" and "silence".
    Devices {
        /// The devices listed (`None` while listing).
        devices: Option<Vec<DeviceEntry>>,
        /// The highlighted entry.
        selected: usize,
    },
    /// The help screen.
    Help,
}

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct App {
    /// The account.
    pub account: AccountInfo,
    /// The registration.
    pub registration: Registration,
    /// Whether the connections run on the FIPS module (badge; the trust prompt offers only
    /// Cancel).
    pub fips: bool,
    /// The calls, oldest first (ended ones stay until another starts).
    pub calls: Vec<CallView>,
    /// The call the keys act on.
    pub selected: Option<CallId>,
    /// What the keyboard types into.
    pub mode: Mode,
    /// The window over the screen, if any (the incoming-call popup is derived from the calls).
    pub modal: Option<Modal>,
    /// Trust prompts waiting behind the current one.
    pub pending_trust: Vec<TrustPrompt>,
    /// URIs dialled, oldest first.
    pub history: Vec<String>,
    /// Contacts seen in directory searches (for completion).
    pub contacts: Vec<ContactHit>,
    /// The log pane, oldest first.
    pub log: VecDeque<String>,
    /// A downgrade alarm on screen until dismissed.
    pub alarm: Option<String>,
    /// Whether the verdict's reasons are shown.
    pub show_reasons: bool,
    /// The audio of the next calls, in words.
    pub audio: String,
    /// The authorization server the registrar named, for the login.
    pub authz_server: Option<String>,
    /// Ticks seen (a second each).
    pub ticks: u64,
    /// Set once the user asked to quit.
    pub quitting: bool,
}

impl App {
    /// The state at start-up.
    pub fn new(account: AccountInfo, fips: bool, audio: &str) -> App {
        App {
            registration: if account.registers {
                Registration::Registering
            } else {
                Registration::Off
            },
            account,
            fips,
            calls: Vec::new(),
            selected: None,
            mode: Mode::Normal,
            modal: None,
            pending_trust: Vec::new(),
            history: Vec::new(),
            contacts: Vec::new(),
            log: VecDeque::new(),
            alarm: None,
            show_reasons: false,
            audio: audio.to_owned(),
            authz_server: None,
            ticks: 0,
            quitting: false,
        }
    }

    /// Takes one input; returns what to do.
    pub fn update(&mut self, input: Input) -> Vec<Action> {
        match input {
            Input::Key(key) => self.on_key(key),
            Input::Phone(event) => self.on_event(event),
            Input::Tick => {
                self.ticks += 1;
                for call in self.calls.iter_mut().filter(|c| c.answered()) {
                    if let Some(secs) = call.answered_secs.as_mut() {
                        *secs += 1;
                    }
                }
                Vec::new()
            }
            Input::Redraw => Vec::new(),
            Input::Dialed { uri, result } => {
                match result {
                    Ok(id) => {
                        if self.call(id).is_none() {
                            self.calls.push(CallView::dialled(id, &uri));
                        }
                        self.selected = Some(id);
                    }
                    Err(why) => self.log_line(format!("cannot call {uri}: {why}")),
                }
                Vec::new()
            }
            Input::Contacts { query, result } => {
                self.on_contacts(query, result);
                Vec::new()
            }
            Input::Login(event) => {
                let line = super::describe::login_event(&event);
                self.log_line(line.clone());
                if let Some(Modal::Login(view)) = &mut self.modal {
                    view.lines.extend(line.lines().map(str::to_owned));
                }
                Vec::new()
            }
            Input::LoginDone(result) => {
                let line = match &result {
                    Ok(()) => "Logged in: registering again.".to_owned(),
                    Err(why) => format!("Login failed: {why}"),
                };
                self.log_line(line.clone());
                if let Some(Modal::Login(view)) = &mut self.modal {
                    view.lines.push(line);
                    view.done = true;
                }
                match result {
                    Ok(()) => vec![Action::Restart],
                    Err(_) => Vec::new(),
                }
            }
            Input::Devices(result) => {
                match result {
                    Ok(devices) => {
                        if let Some(Modal::Devices { devices: slot, .. }) = &mut self.modal {
                            *slot = Some(devices);
                        }
                    }
                    Err(why) => {
                        self.log_line(format!("cannot list the audio devices: {why}"));
                        if let Some(Modal::Devices { devices: slot, .. }) = &mut self.modal {
                            *slot = Some(Vec::new());
                        }
                    }
                }
                Vec::new()
            }
            Input::Log(line) => {
                self.log_line(line);
                Vec::new()
            }
        }
    }

    /// The call with this id.
    pub fn call(&self, id: CallId) -> Option<&CallView> {
        self.calls.iter().find(|c| c.id == id)
    }

    fn call_mut(&mut self, id: CallId) -> Option<&mut CallView> {
        self.calls.iter_mut().find(|c| c.id == id)
    }

    /// The call the keys act on.
    pub fn selected_call(&self) -> Option<&CallView> {
        self.selected.and_then(|id| self.call(id))
    }

    /// The incoming call ringing here that the popup offers, if any.
    pub fn ringing(&self) -> Option<&CallView> {
        self.calls.iter().find(|c| c.state == CallState::Incoming)
    }

    /// Adds a line to the log pane (one row per line of `line`).
    pub fn log_line(&mut self, line: String) {
        if line.contains('\n') {
            for part in line.lines() {
                self.push_log(part.to_owned());
            }
        } else if !line.is_empty() {
            // The usual case (every `tracing` record): the string itself, not a copy.
            self.push_log(line);
        }
    }

    fn push_log(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    fn on_contacts(&mut self, query: String, result: Result<Vec<ContactHit>, String>) {
        match result {
            Err(why) => self.log_line(format!("directory search for `{query}` failed: {why}")),
            Ok(hits) => {
                for hit in &hits {
                    if !self.contacts.contains(hit) {
                        self.contacts.push(hit.clone());
                    }
                }
                match &mut self.mode {
                    // Tab in the dial field asked: complete from the fresh hits.
                    Mode::Dial(field) if field.text == query => {
                        let choices = completion_choices(&self.history, &self.contacts);
                        if !field.complete(&choices) {
                            self.log_line(format!("no contact matches `{query}`"));
                        }
                    }
                    _ => {
                        self.log_line(format!("directory: {} result(s) for `{query}`", hits.len()));
                        self.modal = Some(Modal::Results {
                            query,
                            hits,
                            selected: 0,
                        });
                    }
                }
            }
        }
    }

    /// The audio choice of entry `index` of the device list (devices, then tone, silence).
    fn audio_choice(devices: &[DeviceEntry], index: usize) -> AudioChoice {
        match index.checked_sub(devices.len()) {
            None => AudioChoice::Device(devices[index].id.clone()),
            Some(0) => AudioChoice::Tone,
            Some(_) => AudioChoice::Silence,
        }
    }
}

/// Completion choices: the history (no label) and the contacts (their name).
pub(super) fn completion_choices(
    history: &[String],
    contacts: &[ContactHit],
) -> Vec<(String, String)> {
    history
        .iter()
        .rev()
        .map(|uri| (String::new(), uri.clone()))
        .chain(contacts.iter().map(|c| (c.name.clone(), c.sip_uri.clone())))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
