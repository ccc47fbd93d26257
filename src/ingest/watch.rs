//! Watches the decoded text as the CSV reader pulls it: where each line starts (so every row
//! is reported at its real line, CRLF or not, quoted line breaks or not) and whether the file
//! ends inside a quoted field. The csv crate ends such a record silently, but it is exactly
//! what a cut-off download looks like, so the last record must then not be trusted.
//!
//! Also here: guessing the delimiter from the header line.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

/// Where the quote state machine is, following csv's rules: a quote opens a field only at its
/// start; inside, a doubled quote is a literal quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    FieldStart,
    Unquoted,
    Quoted,
    AfterClosing,
}

/// The shared state: the reader updates it, ingest asks it.
#[derive(Debug)]
pub struct Watch {
    delimiter: u8,
    quote: Quote,
    offset: u64,
    /// Offsets of line breaks not yet passed by a record start.
    newlines: VecDeque<u64>,
    /// Line breaks before the last record start asked about.
    passed: u64,
}

impl Watch {
    /// A watch for text split by `delimiter`, to be shared with [`Watched`].
    #[must_use]
    pub fn new(delimiter: u8) -> Rc<RefCell<Watch>> {
        Rc::new(RefCell::new(Watch {
            delimiter,
            quote: Quote::FieldStart,
            offset: 0,
            newlines: VecDeque::new(),
            passed: 0,
        }))
    }

    /// The 1-based line of the record that starts at byte `offset`. Offsets must be asked in
    /// increasing order (records are read in order).
    pub fn line_at(&mut self, offset: u64) -> u64 {
        // `<=`: after a CRLF, csv puts the next record's start on the LF (csv issue #395).
        while self.newlines.front().is_some_and(|&nl| nl <= offset) {
            self.newlines.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }

    /// Whether everything read so far ends inside a quoted field.
    #[must_use]
    pub fn inside_quotes(&self) -> bool {
        self.quote == Quote::Quoted
    }

    fn see(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.quote = match (self.quote, b) {
                (Quote::FieldStart, b'"') | (Quote::AfterClosing, b'"') => Quote::Quoted,
                (Quote::Quoted, b'"') => Quote::AfterClosing,
                (Quote::Quoted, _) => Quote::Quoted,
                (_, b'\n' | b'\r') => Quote::FieldStart,
                (_, d) if d == self.delimiter => Quote::FieldStart,
                _ => Quote::Unquoted,
            };
            if b == b'\n' {
                self.newlines.push_back(self.offset);
            }
            self.offset += 1;
        }
    }
}

/// A reader that shows every byte it passes on to its [`Watch`].
pub struct Watched<R> {
    inner: R,
    watch: Rc<RefCell<Watch>>,
}

impl<R: Read> Watched<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, watch: Rc<RefCell<Watch>>) -> Self {
        Watched { inner, watch }
    }
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.watch.borrow_mut().see(&buf[..n]);
        Ok(n)
    }
}

/// The delimiter of a file whose text starts with `head`: the most frequent of comma,
/// semicolon and tab outside quotes on the header line; comma when none appears.
#[must_use]
pub fn guess_delimiter(head: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(slot) = counts.iter_mut().find(|(d, _)| *d == b) {
                    slot.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .max_by_key(|(d, n)| (*n, *d == b','))
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(text: &str) -> Rc<RefCell<Watch>> {
        let w = Watch::new(b',');
        let mut out = String::new();
        Watched::new(text.as_bytes(), Rc::clone(&w))
            .read_to_string(&mut out)
            .unwrap();
        w
    }

    #[test]
    fn an_unclosed_quote_at_the_end_is_seen() {
        assert!(watch("a,b\n1,\"cut off").borrow().inside_quotes());
        assert!(!watch("a,b\n1,\"closed\"\n").borrow().inside_quotes());
        assert!(!watch("a,b\n1,\"say \"\"hi\"\"\"").borrow().inside_quotes());
        assert!(
            !watch("a,b\n1,5\" screen\n").borrow().inside_quotes(),
            "a quote inside an unquoted field is text"
        );
        assert!(watch("a,b\r\n1,\"line\r\nbreak").borrow().inside_quotes());
    }

    #[test]
    fn lines_are_counted_at_record_starts() {
        let w = watch("h\r\nr1\r\n\"two\nlines\"\r\nr3\r\n");
        let mut w = w.borrow_mut();
        assert_eq!(w.line_at(0), 1);
        assert_eq!(w.line_at(3), 2);
        assert_eq!(w.line_at(7), 3);
        assert_eq!(w.line_at(21), 5);
    }

    #[test]
    fn delimiters_are_guessed_from_the_header_line() {
        assert_eq!(guess_delimiter(b"a,b,c\n1;2;3;4;5\n"), b',');
        assert_eq!(
            guess_delimiter(b"Bestellnummer;Status;\"Datum, Zeit\";E-Mail\n"),
            b';'
        );
        assert_eq!(
            guess_delimiter(b"order-id\torder-item-id\tpurchase-date\n"),
            b'\t'
        );
        assert_eq!(guess_delimiter(b"order_id\n"), b',');
    }
}
