//! Reading the keyboard: a thread turning crossterm's key events into [`Input`]s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc::UnboundedSender;

use super::input::{Input, Key};

/// The keys of a crossterm key event (none for keys the UI does not use, and releases).
/// Alt+key comes from terminals as Escape then the key, and a quick Escape followed by a key
/// reads the same: the UI binds nothing to Alt, so it is taken as those two keys.
pub(super) fn keys_of(event: &KeyEvent) -> Vec<Key> {
    if event.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let alt = event.modifiers.contains(KeyModifiers::ALT);
    let key = match event.code {
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
        _ => return Vec::new(),
    };
    if alt && !ctrl {
        vec![Key::Esc, key]
    } else {
        vec![key]
    }
}

/// Starts the reader thread; it stops when `stop` is set or the receiver is gone. A resize
/// comes as a `Redraw` (the screen is redrawn after every input).
pub(super) fn spawn_reader(tx: UnboundedSender<Input>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(_) => break,
            }
            let inputs = match event::read() {
                Ok(TermEvent::Key(key)) => keys_of(&key).into_iter().map(Input::Key).collect(),
                Ok(TermEvent::Resize(..)) => vec![Input::Redraw],
                Ok(_) => Vec::new(),
                Err(_) => break,
            };
            if inputs.into_iter().any(|input| tx.send(input).is_err()) {
                break;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_alt_as_escape_then_the_key() {
        let press = |code, modifiers| keys_of(&KeyEvent::new(code, modifiers));
        assert_eq!(
            press(KeyCode::Char('q'), KeyModifiers::NONE),
            [Key::Char('q')]
        );
        assert_eq!(
            press(KeyCode::Char('q'), KeyModifiers::ALT),
            [Key::Esc, Key::Char('q')]
        );
        assert_eq!(
            press(KeyCode::Char('C'), KeyModifiers::CONTROL),
            [Key::Ctrl('c')]
        );
        assert!(press(KeyCode::F(5), KeyModifiers::NONE).is_empty());
    }
}
