//! Key presses: the modal window first, then the text field being typed in, then the
//! single-key commands.

use lockphone_media::dtmf::event_code;

use super::{App, CallState, LoginView, Modal, Mode, TextField, completion_choices};
use crate::trust::TrustDecision as TrustChoice;
use crate::tui::action::Action;
use crate::tui::input::Key;

impl App {
    /// Applies one key press.
    pub(super) fn on_key(&mut self, key: Key) -> Vec<Action> {
        if key == Key::Ctrl('c') || key == Key::Ctrl('q') {
            return self.quit();
        }
        if self.modal.is_some() {
            return self.modal_key(key);
        }
        // While a field is being typed in, its letters are text, not answers.
        if self.mode == Mode::Normal
            && let Some(ringing) = self.ringing().map(|c| c.id)
        {
            match key {
                Key::Char('a') => return self.answer(ringing, false),
                Key::Char('m') => return self.answer(ringing, true),
                Key::Char('r') | Key::Char('x') => return vec![Action::Reject(ringing)],
                _ => {}
            }
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.command_key(key),
            Mode::Keypad => self.keypad_key(key),
            Mode::Dial(field) => self.dial_key(field, key),
            Mode::Search(field) => self.field_key(field, key, Mode::Search, |_, text| {
                vec![Action::SearchContacts(text)]
            }),
            Mode::Transfer(field) => {
                self.field_key(field, key, Mode::Transfer, |app, text| match app.selected {
                    Some(call) => {
                        app.log_line(format!("transferring call {call} to {text}"));
                        vec![Action::Transfer(call, text)]
                    }
                    None => Vec::new(),
                })
            }
        }
    }

    fn quit(&mut self) -> Vec<Action> {
        self.quitting = true;
        vec![Action::Quit]
    }

    fn answer(&mut self, call: crate::call::CallId, muted: bool) -> Vec<Action> {
        self.selected = Some(call);
        if let Some(view) = self.call_mut(call) {
            view.muted = muted;
        }
        vec![Action::Answer { call, muted }]
    }

    /// Single-key commands.
    fn command_key(&mut self, key: Key) -> Vec<Action> {
        let selected = self.selected_call().filter(|c| !c.ended()).map(|c| c.id);
        match key {
            Key::Char('q') => self.quit(),
            Key::Char('d') | Key::Char(':') => {
                self.mode = Mode::Dial(TextField::default());
                Vec::new()
            }
            Key::Char('/') => {
                self.mode = Mode::Search(TextField::default());
                Vec::new()
            }
            Key::Char('?') => {
                self.modal = Some(Modal::Help);
                Vec::new()
            }
            Key::Char('r') => {
                self.show_reasons = !self.show_reasons;
                Vec::new()
            }
            Key::Char('l') => {
                self.modal = Some(Modal::Login(LoginView {
                    lines: vec!["Starting the OAuth login…".to_owned()],
                    done: false,
                }));
                vec![Action::Login {
                    issuer: self.authz_server.clone(),
                }]
            }
            Key::Char('a') => {
                self.modal = Some(Modal::Devices {
                    devices: None,
                    selected: 0,
                });
                vec![Action::ListDevices]
            }
            Key::Char('g') => vec![Action::Register],
            Key::Esc => {
                self.alarm = None;
                Vec::new()
            }
            Key::Tab => {
                let live: Vec<_> = self.calls.iter().map(|c| c.id).collect();
                if let Some(pos) = self
                    .selected
                    .and_then(|id| live.iter().position(|c| *c == id))
                {
                    self.selected = Some(live[(pos + 1) % live.len()]);
                }
                Vec::new()
            }
            Key::Char('h') => selected.map(Action::Hangup).into_iter().collect(),
            Key::Char('o') => {
                let Some(call) = selected else {
                    return Vec::new();
                };
                let view = self.call_mut(call);
                match view.map(|v| &mut v.state) {
                    Some(state @ CallState::Active) => {
                        *state = CallState::OnHold;
                        vec![Action::Hold(call, true)]
                    }
                    Some(state @ CallState::OnHold) => {
                        *state = CallState::Active;
                        vec![Action::Hold(call, false)]
                    }
                    _ => Vec::new(),
                }
            }
            Key::Char('m') => {
                let Some(view) = selected.and_then(|id| self.call_mut(id)) else {
                    return Vec::new();
                };
                view.muted = !view.muted;
                vec![Action::Mute(view.id, view.muted)]
            }
            Key::Char('k') if selected.is_some() => {
                self.mode = Mode::Keypad;
                Vec::new()
            }
            Key::Char('t') if selected.is_some() => {
                self.mode = Mode::Transfer(TextField::with_text("sip:"));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn keypad_key(&mut self, key: Key) -> Vec<Action> {
        match key {
            Key::Esc | Key::Enter | Key::Char('k') => Vec::new(),
            Key::Char(c) if event_code(c).is_some() => {
                self.mode = Mode::Keypad;
                let digit = c.to_ascii_uppercase().to_string();
                match self.selected.and_then(|id| self.call_mut(id)) {
                    Some(view) if view.answered() => {
                        view.dtmf_sent.push_str(&digit);
                        vec![Action::Dtmf(view.id, digit)]
                    }
                    _ => Vec::new(),
                }
            }
            _ => {
                self.mode = Mode::Keypad;
                Vec::new()
            }
        }
    }

    fn dial_key(&mut self, mut field: TextField, key: Key) -> Vec<Action> {
        match key {
            Key::Tab => {
                let choices = completion_choices(&self.history, &self.contacts);
                let local = field.complete(&choices);
                let query = field.text.clone();
                self.mode = Mode::Dial(field);
                // The directory may know more: ask it (the answer completes again).
                if !local && !query.is_empty() {
                    return vec![Action::SearchContacts(query)];
                }
                Vec::new()
            }
            Key::Up => {
                field.older(&self.history);
                self.mode = Mode::Dial(field);
                Vec::new()
            }
            Key::Down => {
                field.newer(&self.history);
                self.mode = Mode::Dial(field);
                Vec::new()
            }
            _ => self.field_key(field, key, Mode::Dial, |app, text| {
                // A SIP URI as typed, or `sip:TEXT` for a bare name or number.
                let uri = crate::contacts::sip_uri_from(&text);
                app.log_line(format!("calling {uri}…"));
                app.dial(uri)
            }),
        }
    }

    /// Dials `uri`, making it the newest entry of the history (once).
    fn dial(&mut self, uri: String) -> Vec<Action> {
        self.history.retain(|h| *h != uri);
        self.history.push(uri.clone());
        vec![Action::Dial(uri)]
    }

    /// Editing keys of a text field: Enter submits with `submit`, Esc abandons.
    fn field_key(
        &mut self,
        mut field: TextField,
        key: Key,
        mode: fn(TextField) -> Mode,
        submit: impl FnOnce(&mut App, String) -> Vec<Action>,
    ) -> Vec<Action> {
        match key {
            Key::Esc => Vec::new(),
            Key::Enter => {
                let text = field.text.trim().to_owned();
                if text.is_empty() {
                    Vec::new()
                } else {
                    submit(self, text)
                }
            }
            Key::Backspace => {
                field.backspace();
                self.mode = mode(field);
                Vec::new()
            }
            Key::Char(c) => {
                field.push(c);
                self.mode = mode(field);
                Vec::new()
            }
            _ => {
                self.mode = mode(field);
                Vec::new()
            }
        }
    }

    fn modal_key(&mut self, key: Key) -> Vec<Action> {
        let Some(modal) = self.modal.take() else {
            return Vec::new();
        };
        match modal {
            Modal::Trust(prompt) => {
                let choice = match key {
                    Key::Char('a') if !self.fips => TrustChoice::AlwaysTrust,
                    Key::Char('c') if !self.fips => TrustChoice::Continue,
                    Key::Char('n') | Key::Esc => TrustChoice::Cancel,
                    _ => {
                        self.modal = Some(Modal::Trust(prompt));
                        return Vec::new();
                    }
                };
                self.log_line(format!(
                    "certificate of {}: {}",
                    prompt.server,
                    match choice {
                        TrustChoice::AlwaysTrust => "always trusted",
                        TrustChoice::Continue => "trusted for this session",
                        TrustChoice::Cancel => "not trusted",
                    }
                ));
                if !self.pending_trust.is_empty() {
                    self.modal = Some(Modal::Trust(self.pending_trust.remove(0)));
                }
                vec![Action::DecideTrust {
                    server: prompt.server,
                    choice,
                }]
            }
            Modal::Results {
                query,
                hits,
                mut selected,
            } => {
                match key {
                    Key::Up => selected = selected.saturating_sub(1),
                    Key::Down => selected = (selected + 1).min(hits.len().saturating_sub(1)),
                    Key::Esc => return Vec::new(),
                    Key::Enter => {
                        if let Some(hit) = hits.get(selected) {
                            self.log_line(format!("calling {} <{}>", hit.name, hit.sip_uri));
                            return self.dial(hit.sip_uri.clone());
                        }
                        return Vec::new();
                    }
                    _ => {}
                }
                self.modal = Some(Modal::Results {
                    query,
                    hits,
                    selected,
                });
                Vec::new()
            }
            Modal::Devices {
                devices,
                mut selected,
            } => {
                let count = devices.as_ref().map_or(0, Vec::len) + 2;
                match key {
                    Key::Up => selected = selected.saturating_sub(1),
                    Key::Down => selected = (selected + 1).min(count - 1),
                    Key::Esc => return Vec::new(),
                    Key::Enter => {
                        if let Some(list) = &devices {
                            let choice = App::audio_choice(list, selected);
                            self.audio = crate::tui::describe::audio(&choice);
                            self.log_line(format!("audio for the next calls: {}", self.audio));
                            return vec![Action::UseAudio(choice)];
                        }
                    }
                    _ => {}
                }
                self.modal = Some(Modal::Devices { devices, selected });
                Vec::new()
            }
            Modal::Login(view) => {
                if !matches!(key, Key::Esc | Key::Enter) {
                    self.modal = Some(Modal::Login(view));
                }
                Vec::new()
            }
            Modal::Help => Vec::new(),
        }
    }
}
