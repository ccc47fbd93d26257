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
    /// The line the next byte is on (1-based).
    line: u64,
    /// The next byte that is not a line break starts a record (csv skips blank lines).
    at_record_start: bool,
    /// The lines records started on, not yet asked for.
    starts: VecDeque<u64>,
    /// The last byte seen.
    last: Option<u8>,
}

impl Watch {
    /// A watch for text split by `delimiter` whose first byte is on line `first_line`, to be
    /// shared with [`Watched`].
    #[must_use]
    pub fn new(delimiter: u8, first_line: u64) -> Rc<RefCell<Watch>> {
        Rc::new(RefCell::new(Watch {
            delimiter,
            quote: Quote::FieldStart,
            line: first_line,
            at_record_start: true,
            starts: VecDeque::new(),
            last: None,
        }))
    }

    /// The line of the next record csv hands out (header included), in order. Record starts
    /// are found here rather than from csv's positions, which are off after a CRLF or a blank
    /// line.
    pub fn next_record_line(&mut self) -> u64 {
        self.starts.pop_front().unwrap_or(self.line)
    }

    /// Whether everything read so far ends inside a quoted field.
    #[must_use]
    pub fn inside_quotes(&self) -> bool {
        self.quote == Quote::Quoted
    }

    /// Whether the text read so far ends with a line break (a complete last record).
    #[must_use]
    pub fn ends_with_newline(&self) -> bool {
        matches!(self.last, Some(b'\n' | b'\r'))
    }

    fn see(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            if self.quote == Quote::Quoted {
                // Inside quotes only a quote (which may end the field) and line counts matter.
                let Some(k) = memchr::memchr2(b'"', b'\n', &bytes[i..]) else {
                    break;
                };
                i += k;
                if bytes[i] == b'"' {
                    self.quote = Quote::AfterClosing;
                } else {
                    self.line += 1;
                }
                i += 1;
                continue;
            }
            self.step(bytes[i]);
            i += 1;
            if self.quote == Quote::Unquoted {
                // Until the next quote or line break nothing changes but which field this
                // is, and that matters only for a quote: skip there (a memchr per line, not
                // one per field).
                match memchr::memchr3(b'"', b'\n', b'\r', &bytes[i..]) {
                    Some(k) => {
                        i += k;
                        // A quote right after a delimiter opens a quoted field; anywhere else
                        // in an unquoted field it is text. (`i` is past the byte stepped.)
                        if bytes[i] == b'"' && bytes[i - 1] == self.delimiter {
                            self.quote = Quote::FieldStart;
                        }
                    }
                    None => i = bytes.len(),
                }
            }
        }
        if let Some(&b) = bytes.last() {
            self.last = Some(b);
            // The skip above passes delimiters by: the next text starts a field after one.
            if self.quote == Quote::Unquoted && b == self.delimiter {
                self.quote = Quote::FieldStart;
            }
        }
    }

    /// One byte outside a quoted field.
    fn step(&mut self, b: u8) {
        if self.at_record_start && b != b'\n' && b != b'\r' {
            self.starts.push_back(self.line);
            self.at_record_start = false;
        }
        // Never inside quotes here (`see` reads quoted text itself): a line break ends a record.
        let ends_record = matches!(b, b'\n' | b'\r');
        self.quote = match (self.quote, b) {
            (Quote::FieldStart | Quote::AfterClosing, b'"') => Quote::Quoted,
            (_, b'\n' | b'\r') => Quote::FieldStart,
            (_, d) if d == self.delimiter => Quote::FieldStart,
            _ => Quote::Unquoted,
        };
        if ends_record {
            self.at_record_start = true;
        }
        if b == b'\n' {
            self.line += 1;
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

/// Excel's `sep=;` first line, which names the delimiter (and is no header): the delimiter and
/// the length of the line with its line break.
#[must_use]
pub fn excel_sep_line(head: &[u8]) -> Option<(u8, usize)> {
    let rest = head.strip_prefix(b"sep=")?;
    let (&delimiter, after) = rest.split_first()?;
    let eol = match after {
        [b'\r', b'\n', ..] => 2,
        [b'\n' | b'\r', ..] => 1,
        _ => return None,
    };
    Some((delimiter, 4 + 1 + eol))
}

/// The delimiter of a file whose text starts with `head`: the most frequent of comma,
/// semicolon and tab outside quotes on the header line; comma when none appears.
#[must_use]
pub fn guess_delimiter(head: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    let start = head
        .iter()
        .position(|b| !matches!(b, b'\n' | b'\r'))
        .unwrap_or(0);
    for &b in &head[start..] {
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
        let w = Watch::new(b',', 1);
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
    fn text_cut_anywhere_is_watched_as_when_whole() {
        let texts = [
            "a,b\n1,\"x\"\n2,\"y\nz\"\n",
            "a,b\n1,5\" screen,\"q\"\r\n\"2\",\"say \"\"hi\"\"\"\n3,\"open",
            "h\r\n\r\nr1\r\n\"two\nlines\"\r\n\nr3\r\n,,\n,\"a,\"\"b\"\"\",c\"d\n",
        ];
        for text in texts {
            let whole = Watch::new(b',', 1);
            whole.borrow_mut().see(text.as_bytes());
            for cut in 1..text.len() {
                let parts = Watch::new(b',', 1);
                for chunk in text.as_bytes().chunks(cut) {
                    parts.borrow_mut().see(chunk);
                }
                let (w, p) = (whole.borrow(), parts.borrow());
                assert_eq!(
                    (&p.starts, p.line, p.quote, p.at_record_start, p.last),
                    (&w.starts, w.line, w.quote, w.at_record_start, w.last),
                    "{text:?} in pieces of {cut}"
                );
            }
        }
        let w = Watch::new(b',', 1);
        w.borrow_mut().see(texts[2].as_bytes());
        assert_eq!(Vec::from(w.borrow().starts.clone()), [1, 3, 4, 7, 8, 9]);
    }

    #[test]
    fn records_start_on_their_real_lines() {
        let w = watch("h\r\n\r\nr1\r\n\"two\nlines\"\r\n\nr3\r\n,,\n");
        let mut w = w.borrow_mut();
        let lines: Vec<u64> = (0..5).map(|_| w.next_record_line()).collect();
        assert_eq!(lines, [1, 3, 4, 7, 8]);
        assert!(w.ends_with_newline());
    }

    #[test]
    fn excel_names_the_delimiter_on_a_first_line() {
        assert_eq!(excel_sep_line(b"sep=;\r\na;b\r\n"), Some((b';', 7)));
        assert_eq!(excel_sep_line(b"sep=,\na,b\n"), Some((b',', 6)));
        assert_eq!(excel_sep_line(b"order_id,sep\n"), None);
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
        assert_eq!(
            guess_delimiter(b"\r\n\na;b;c\n"),
            b';',
            "leading blank lines are skipped"
        );
    }
}
