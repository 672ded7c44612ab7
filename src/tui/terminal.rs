//! The terminal: raw mode and the alternate screen while the UI runs, restored when the guard
//! drops (normal exit, error, Ctrl-C) and by ratatui's panic hook on a panic.

use ratatui::DefaultTerminal;

/// The terminal in UI mode; restored on drop.
pub(super) struct TerminalGuard {
    /// The ratatui terminal.
    pub(super) terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and installs the panic hook that restores
    /// the terminal before the panic message is printed.
    pub(super) fn enter() -> std::io::Result<TerminalGuard> {
        Ok(TerminalGuard {
            terminal: ratatui::try_init()?,
        })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        ratatui::restore();
    }
}

/// Rings the terminal bell.
pub(super) fn bell() {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b"\x07").and_then(|()| out.flush());
}
