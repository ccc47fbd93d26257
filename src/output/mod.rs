//! The run's entries leave as text: every order's [`Entry`] in export order, then the
//! closing [`Summary`], handed to a [`Sink`]. One module per format.
//!
//! | sink | for | stdout | stderr |
//! | --- | --- | --- | --- |
//! | [`text::Text`] | the preview a seller reads | each reminder as a block | summary, skips, bad rows |
//! | [`json::JsonLines`] | scripts | one object per order, then the summary | nothing |
//!
//! Sending is [`crate::deliver`]'s; a sending run hands its entries here afterwards, each with
//! what became of its message.

pub mod json;
pub mod text;

use std::io::{self, Write};

use crate::report::{Entry, Summary};

/// Where decided entries go.
pub trait Sink {
    /// Takes one order's entry (a reminder or a skip), in export order.
    ///
    /// # Errors
    /// The output cannot be written.
    fn order(&mut self, entry: &Entry<'_>) -> io::Result<()>;

    /// Takes the closing tally, after the last entry.
    ///
    /// # Errors
    /// The output cannot be written.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// A writer for a sending run's output: when the reader goes away (`--send | head -1`), the
/// rest is dropped instead of stopping the run. The mail is out by then and every outcome is
/// in the ledger; the summary's exit code (1 when a due reminder was not sent) must still be
/// the run's, not the quiet 0 of a preview cut short.
pub struct Tolerant<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Tolerant<W> {
    /// Writes to `inner` until it reports a closed pipe.
    pub fn new(inner: W) -> Self {
        Tolerant {
            inner,
            closed: false,
        }
    }

    fn settle<T>(&mut self, result: io::Result<T>, instead: T) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(instead)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Tolerant<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.settle(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.settle(result, ())
    }
}
