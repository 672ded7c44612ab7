//! What goes into the state reducer: keys, phone events, results of actions, ticks.

use crate::oauth::LoginEvent;
use crate::ua::Event;

/// A key press, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// A character typed with Ctrl held.
    Ctrl(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Tab.
    Tab,
    /// Up arrow.
    Up,
    /// Down arrow.
    Down,
    /// Left arrow.
    Left,
    /// Right arrow.
    Right,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
}

/// A directory entry as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactHit {
    /// The person's name.
    pub name: String,
    /// Their SIP URI (what is dialled).
    pub sip_uri: String,
    /// Their phone number, if any.
    pub phone: Option<String>,
}

/// An audio device as the UI lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEntry {
    /// Its identifier (what is selected).
    pub id: String,
    /// Its descriptive name.
    pub name: String,
    /// Whether it is the system default.
    pub default: bool,
}

/// One input of the reducer.
#[derive(Debug, Clone)]
pub enum Input {
    /// A key was pressed.
    Key(Key),
    /// The phone reported something.
    Phone(Event),
    /// A second passed (call timers, alarm blinking).
    Tick,
    /// The terminal was resized: nothing changes but the screen is drawn again.
    Redraw,
    /// A dial was placed (`Ok`) or refused at once (`Err`, with why).
    Dialed {
        /// The URI dialled.
        uri: String,
        /// The call or the error.
        result: Result<crate::call::CallId, String>,
    },
    /// A directory search finished.
    Contacts {
        /// The text searched.
        query: String,
        /// The entries found, or why the search failed.
        result: Result<Vec<ContactHit>, String>,
    },
    /// An OAuth login made progress.
    Login(LoginEvent),
    /// The OAuth login ended: `Ok` logged in, `Err` why not.
    LoginDone(Result<(), String>),
    /// The audio devices were listed.
    Devices(Result<Vec<DeviceEntry>, String>),
    /// A line for the log pane (a warning of the user agent, an action that failed).
    Log(String),
}
