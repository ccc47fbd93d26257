//! JSON Lines for scripts: one `"type":"order"` object per order, then one `"type":"summary"`.

use std::io::{self, Write};

use super::Sink;
use crate::report::{Entry, Summary};

/// Writes one JSON object per line.
pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    /// Lines go to `out`.
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }

    fn line<T: serde::Serialize>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn order(&mut self, entry: &Entry<'_>) -> io::Result<()> {
        self.line(entry)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.line(summary)?;
        self.out.flush()
    }
}
