//! Reading the keyboard: a thread turning crossterm's key events into [`Input`]s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc::UnboundedSender;

use super::input::{Input, Key};

/// The key of a crossterm key event (`None` for keys the UI does not use, and releases).
pub(super) fn key_of(event: &KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Tab => Key::Tab,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        _ => return None,
    })
}

/// Starts the reader thread; it stops when `stop` is set or the receiver is gone. A resize
/// comes as a `Tick` (the screen is redrawn after every input).
pub(super) fn spawn_reader(tx: UnboundedSender<Input>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(_) => break,
            }
            let input = match event::read() {
                Ok(TermEvent::Key(key)) => key_of(&key).map(Input::Key),
                Ok(TermEvent::Resize(..)) => Some(Input::Tick),
                Ok(_) => None,
                Err(_) => break,
            };
            if let Some(input) = input
                && tx.send(input).is_err()
            {
                break;
            }
        }
    });
}
