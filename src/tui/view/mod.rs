//! Drawing the state with ratatui: header, alarm, call pane, log pane, input line, key help.
//! Everything reads in monochrome: levels are symbols and words, colour only repeats them.

mod badge;
mod call;
mod modal;
#[cfg(test)]
mod tests;

pub use badge::{Badge, badge};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::state::{App, Modal, Mode};

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let input_lines = input_lines(app);
    let [header, alarm, body, log, input, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(app.alarm.is_some())),
        Constraint::Min(8),
        Constraint::Length(5),
        Constraint::Length(u16::try_from(input_lines.len()).unwrap_or(3).min(3)),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header_line(app)), header);
    if let Some(text) = &app.alarm {
        let blink = if app.ticks.is_multiple_of(2) {
            "⚠⚠"
        } else {
            "!!"
        };
        frame.render_widget(
            Paragraph::new(format!("{blink} [Esc] {text}"))
                .style(Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)),
            alarm,
        );
    }
    call::draw(frame, body, app);
    draw_log(frame, log, app);
    frame.render_widget(Paragraph::new(input_lines), input);
    frame.render_widget(
        Paragraph::new(help_line(app)).style(Style::new().add_modifier(Modifier::REVERSED)),
        help,
    );
    let below_header = ratatui::layout::Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(2),
        ..area
    };
    modal::draw(frame, below_header, app);
}

/// The log pane: the newest lines at the bottom, long ones cut into rows.
fn draw_log(frame: &mut Frame<'_>, area: ratatui::layout::Rect, app: &App) {
    let rows = usize::from(area.height.saturating_sub(1));
    let width = usize::from(area.width).max(1);
    let mut shown: Vec<Line<'_>> = Vec::new();
    for line in app.log.iter().rev() {
        // Rows of `width` characters, borrowed from the log; last row first, like the lines.
        let first_row = shown.len();
        let mut starts = line
            .char_indices()
            .map(|(i, _)| i)
            .step_by(width)
            .peekable();
        while let Some(start) = starts.next() {
            let end = starts.peek().copied().unwrap_or(line.len());
            shown.push(Line::from(&line[start..end]));
        }
        shown[first_row..].reverse();
        if shown.len() >= rows {
            break;
        }
    }
    shown.truncate(rows);
    shown.reverse();
    frame.render_widget(
        Paragraph::new(shown).block(Block::new().borders(Borders::TOP).title(" Log ")),
        area,
    );
}

fn header_line(app: &App) -> Line<'_> {
    let mut spans = vec![
        Span::styled(
            " Lockphone ",
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::raw(format!(" {} ", app.account.aor)),
        Span::raw("│ "),
        Span::raw(app.registration.words()),
    ];
    if let Some(listen) = &app.account.listening {
        spans.push(Span::raw(format!(" │ calls to {listen}")));
    }
    if app.fips {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            "[FIPS]",
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    Line::from(spans)
}

fn input_lines(app: &App) -> Vec<Line<'_>> {
    let (label, field) = match &app.mode {
        Mode::Dial(field) => ("Dial", field),
        Mode::Search(field) => ("Search", field),
        Mode::Transfer(field) => ("Transfer to", field),
        Mode::Keypad => {
            return vec![Line::from(
                "Keypad: 1 2 3 4 5 6 7 8 9 * 0 # A B C D (sent as DTMF)",
            )];
        }
        Mode::Normal => return Vec::new(),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{label} ▸ "),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(field.text.as_str()),
        Span::styled("▏", Style::new().add_modifier(Modifier::SLOW_BLINK)),
    ])];
    if !field.candidates.is_empty() {
        lines.push(Line::from(format!("  {}", field.candidates.join(" · "))));
    }
    lines
}

/// The key help of the current context.
pub fn help_line(app: &App) -> String {
    let keys: &[&str] = match (&app.modal, &app.mode) {
        (Some(Modal::Trust(_)), _) if app.fips => &["n/Esc Cancel (FIPS)"],
        (Some(Modal::Trust(_)), _) => &["a Always trust", "c Continue", "n/Esc Cancel"],
        (Some(Modal::Results { .. } | Modal::Devices { .. }), _) => {
            &["↑↓ Choose", "Enter Select", "Esc Close"]
        }
        (Some(_), _) => &["Esc Close"],
        (None, Mode::Normal) if app.ringing().is_some() => {
            &["a Answer", "m Answer muted", "r Reject"]
        }
        (None, Mode::Dial(_)) => &["Enter Call", "Tab Complete", "↑↓ History", "Esc Cancel"],
        (None, Mode::Search(_)) => &["Enter Search", "Esc Cancel"],
        (None, Mode::Transfer(_)) => &["Enter Transfer", "Esc Cancel"],
        (None, Mode::Keypad) => &["0-9*#A-D Send", "Esc Leave keypad"],
        (None, Mode::Normal) => {
            if app.selected_call().is_some_and(|c| !c.ended()) {
                &[
                    "h Hang up",
                    "o Hold",
                    "m Mute",
                    "k Keypad",
                    "t Transfer",
                    "r Why",
                    "d Dial",
                    "? Help",
                    "q Quit",
                ]
            } else {
                &[
                    "d Dial", "/ Search", "l Login", "a Audio", "r Why", "? Help", "q Quit",
                ]
            }
        }
    };
    format!(" {}", keys.join("  "))
}
