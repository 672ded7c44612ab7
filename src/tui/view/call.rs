//! The in-call pane: the lock, the parts of the verdict, media, live statistics, sparklines.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Wrap};

use super::badge::badge;
use crate::tui::state::{App, CallView};

/// Draws the selected call (or the idle text) in `area`.
pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let Some(call) = app.selected_call() else {
        let idle = Paragraph::new(vec![
            Line::from(""),
            Line::from("  No call."),
            Line::from("  Press d to dial, / to search the directory, ? for help."),
            Line::from(format!("  Audio: {}", app.audio)),
        ])
        .block(Block::new().borders(Borders::ALL).title(" Calls "));
        frame.render_widget(idle, area);
        return;
    };
    let others: Vec<String> = app
        .calls
        .iter()
        .filter(|c| c.id != call.id)
        .map(|c| format!("{} {}", c.id, c.state.words()))
        .collect();
    let mut title = format!(
        " Call {} · {} · {} ",
        call.id,
        if call.incoming { "from" } else { "to" },
        call.peer
    );
    if !others.is_empty() {
        title.push_str(&format!("· also: {} (Tab) ", others.join(", ")));
    }
    let block = Block::new().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = summary_lines(call);
    if app.show_reasons {
        lines.push(Line::from(Span::styled(
            "Why (r to hide):",
            Style::new().add_modifier(Modifier::BOLD),
        )));
        match call.verdict.as_ref().map(|v| &v.reasons) {
            Some(reasons) if !reasons.is_empty() => {
                lines.extend(reasons.iter().map(|r| Line::from(format!(" • {r}"))));
            }
            Some(_) => lines.push(Line::from(
                " • TLS to a server verified by a CA, SRTP keys only over it, far end known",
            )),
            None => lines.push(Line::from(" • no verdict yet")),
        }
    }
    // The sparklines right under the figures, the text wrapping above them.
    let width = usize::from(inner.width).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let text_rows = u16::try_from(rows)
        .unwrap_or(u16::MAX)
        .min(inner.height.saturating_sub(2));
    let [text_area, spark_area, _] = Layout::vertical([
        Constraint::Length(text_rows),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
    draw_sparklines(frame, spark_area, call);
}

fn summary_lines(call: &CallView) -> Vec<Line<'static>> {
    let mut shown = badge(call.verdict.as_ref());
    if call.verdict.is_none() && call.ended() {
        shown.symbol = "–";
        shown.words = "Not connected";
    }
    let mut state = call.state.words();
    if let Some(secs) = call.answered_secs {
        state.push_str(&format!("  {:02}:{:02}", secs / 60, secs % 60));
    }
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{}  {}", shown.symbol, shown.words), shown.style),
        Span::raw("   "),
        Span::styled(state, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(if call.muted { "   MUTED" } else { "" }),
    ])];
    if let Some(verdict) = &call.verdict {
        lines.push(Line::from(format!(
            "signalling {} ({}) · media {} · far end {}",
            verdict.signalling,
            verdict.tls_version.as_deref().unwrap_or(&verdict.transport),
            verdict.media,
            verdict.remote
        )));
    }
    if let Some(codec) = &call.codec {
        // The verdict follows re-offers; the answer's suite is only the first one.
        let suite = match &call.verdict {
            Some(verdict) => verdict.srtp_suite.as_deref(),
            None => call.suite.as_deref(),
        };
        lines.push(Line::from(format!(
            "SRTP {} · codec {}",
            suite.unwrap_or("none (plain RTP)"),
            codec
        )));
    }
    if let Some(stats) = &call.stats {
        lines.push(Line::from(format!(
            "loss {} ({:.1}%) · jitter {:.1} ms · RTT {} · MOS {}",
            stats.lost,
            call.loss_percent().unwrap_or(0.0),
            stats.jitter_ms,
            stats
                .rtt_ms
                .map_or("-".to_owned(), |r| format!("{r:.1} ms")),
            stats.mos.map_or("-".to_owned(), |m| format!("{m:.2}"))
        )));
    }
    if !call.dtmf_sent.is_empty() {
        lines.push(Line::from(format!("DTMF sent: {}", call.dtmf_sent)));
    }
    if let Some(what) = &call.downgrade {
        lines.push(Line::from(Span::styled(
            format!("⚠ DOWNGRADE: {what}"),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )));
    }
    lines
}

fn draw_sparklines(frame: &mut Frame<'_>, area: Rect, call: &CallView) {
    if call.stats.is_none() {
        return;
    }
    let rows = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).split(area);
    // Level on a fixed scale (RMS 0..1 as 0..1000); loss scaled to its worst second (≥ 5).
    let loss_max = call.loss_history.iter().copied().max().unwrap_or(0).max(5);
    for (row, label, data, max) in [
        (rows[0], "level ", &call.level_history, 1000),
        (rows[1], "loss  ", &call.loss_history, loss_max),
    ] {
        let [label_area, spark_area] =
            Layout::horizontal([Constraint::Length(6), Constraint::Min(1)]).areas(row);
        frame.render_widget(Paragraph::new(label), label_area);
        let width = usize::from(spark_area.width);
        let data = data.iter().skip(data.len().saturating_sub(width));
        frame.render_widget(Sparkline::default().data(data).max(max), spark_area);
    }
}
