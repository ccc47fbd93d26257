//! The preview: every reminder as a readable block on stdout, the summary on stderr.

use std::io::{self, Write};

use super::Sink;
use crate::report::{Decision, Entry, Summary};

/// Prints reminders for a person to review.
pub struct Text<W: Write, E: Write> {
    out: W,
    err: E,
    sender: String,
    printed: u64,
    sending: bool,
}

impl<W: Write, E: Write> Text<W, E> {
    /// Reminders go to `out`, the summary to `err`; `sender` is shown as `From:`. When
    /// `sending`, the messages are not printed again: only the summary, for cron's mail.
    pub fn new(out: W, err: E, sender: &str, sending: bool) -> Self {
        Text {
            out,
            err,
            sender: sender.to_owned(),
            printed: 0,
            sending,
        }
    }
}

impl<W: Write, E: Write> Sink for Text<W, E> {
    fn order(&mut self, entry: &Entry<'_>) -> io::Result<()> {
        if entry.decision != Decision::Remind || self.sending {
            return Ok(());
        }
        self.printed += 1;
        let out = &mut self.out;
        if self.printed > 1 {
            writeln!(out)?;
        }
        // What the export wrote is shown on one line each, without the characters that
        // would steer the terminal (escape sequences) or reorder what it shows (bidi).
        let line = |text: &str| crate::line::header(text, 2 * crate::line::MAX_HEADER_CHARS);
        // An offer step sent in the plain wording says so (the step is still what it is).
        let plain = if entry.wording.is_some() {
            " (plain wording: the buyer did not accept marketing)"
        } else {
            ""
        };
        writeln!(
            out,
            "=== Reminder {}: order {} · {}{plain} · {} buyer · {} h old",
            self.printed,
            line(&entry.order_id),
            entry.template.as_deref().unwrap_or_default(),
            entry
                .buyer_type
                .map(crate::order::BuyerType::as_str)
                .unwrap_or_default(),
            entry.age_hours.unwrap_or_default()
        )?;
        if !self.sender.is_empty() {
            writeln!(out, "From: {}", self.sender)?;
        }
        let to = entry.to.as_deref().unwrap_or_default();
        let name = line(&entry.buyer_name);
        // The language beside the recipient: who reads what.
        let language = entry
            .language
            .map(|l| format!(" · {l}"))
            .unwrap_or_default();
        if name.is_empty() {
            writeln!(out, "To: {to}{language}")?;
        } else {
            writeln!(out, "To: {name} <{to}>{language}")?;
        }
        writeln!(
            out,
            "Subject: {}",
            line(entry.subject.as_deref().unwrap_or_default())
        )?;
        writeln!(out)?;
        write!(
            out,
            "{}",
            crate::line::terminal(entry.body.as_deref().unwrap_or_default())
        )
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.out.flush()?;
        write!(self.err, "{summary}")?;
        self.err.flush()
    }
}
