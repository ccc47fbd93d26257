//! First stage: an export file becomes typed, grouped [`Order`]s, in this order:
//!
//! 1. [`decode`]: bytes to UTF-8 text (BOM, UTF-8, or a legacy encoding like GB18030).
//! 2. [`watch`]: the delimiter is guessed; line starts and unclosed quotes are tracked.
//! 3. [`layout`]: the header row names the layout (Shopify, WooCommerce, AliExpress, Taobao or
//!    generic), whose preset maps fields to headers and status words to classes.
//! 4. [`columns`]: headers to positions, by name, never by position.
//! 5. `row`: each record's cells parsed ([`value`]).
//! 6. `group`: rows merged per order number, so a multi-row order is one order.
//!
//! A row that cannot be read becomes an [`InvalidRow`] with its line and column; it keeps its
//! order quiet (a half-read order is never reminded) and the rest of the file goes on.

pub mod columns;
pub mod decode;
mod group;
pub mod layout;
mod row;
pub mod value;
pub mod watch;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use self::columns::{Columns, normalize_header};
use self::group::Grouper;
use self::layout::Mapping;
use self::watch::{Watch, Watched};
use crate::config::Settings;
use crate::error::Error;
use crate::order::{Field, Order};

/// Where the export comes from: a file, standard input for `-`, or bytes already in memory.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
    bytes: Option<std::sync::Arc<[u8]>>,
}

impl Source {
    /// The export at `path`; `-` is standard input.
    #[must_use]
    pub fn new(path: &Path) -> Source {
        Source {
            path: path.to_owned(),
            bytes: None,
        }
    }

    /// An export held in memory (tests, fuzzing, embedding); `name` is shown in messages.
    #[must_use]
    pub fn from_bytes(name: &str, bytes: impl Into<std::sync::Arc<[u8]>>) -> Source {
        Source {
            path: PathBuf::from(name),
            bytes: Some(bytes.into()),
        }
    }

    /// The name used in messages (`<stdin>` for `-`).
    #[must_use]
    pub fn display(&self) -> PathBuf {
        if self.is_stdin() {
            PathBuf::from("<stdin>")
        } else {
            self.path.clone()
        }
    }

    fn is_stdin(&self) -> bool {
        self.bytes.is_none() && self.path.as_os_str() == "-"
    }

    fn open(&self) -> Result<Box<dyn Read>, Error> {
        if let Some(bytes) = &self.bytes {
            return Ok(Box::new(Cursor::new(std::sync::Arc::clone(bytes))));
        }
        if self.is_stdin() {
            return Ok(Box::new(std::io::stdin()));
        }
        let file = File::open(&self.path).map_err(|source| Error::Read {
            path: self.path.clone(),
            source,
        })?;
        Ok(Box::new(std::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    }
}

/// A row that could not be read: where, which cell, and why.
#[derive(Debug, Clone)]
pub struct InvalidRow {
    /// Line of the record in the file (1 = header).
    pub line: u64,
    /// 1-based column of the bad cell, when one cell is to blame.
    pub column: Option<usize>,
    /// The order number on the row, if it could be read.
    pub order_id: String,
    /// The buyer of the row (buyer id, else lower-cased e-mail), if it could be read: the
    /// buyer's other orders stay quiet, since this one may be paid.
    pub buyer: String,
    /// The bad value as written.
    pub value: String,
    /// What is wrong with it, and what to do.
    pub error: String,
}

/// A bad row as one line a seller can act on: `file:line:column: "value": what to do`.
#[must_use]
pub fn describe_bad_row(
    file: &str,
    line: u64,
    column: Option<usize>,
    value: &str,
    error: &str,
) -> String {
    let column = column.map(|c| format!(":{c}")).unwrap_or_default();
    let value = if value.is_empty() {
        String::new()
    } else {
        format!("{value:?}: ")
    };
    format!("{file}:{line}{column}: {value}{error}")
}

/// Everything ingest learned from one export.
#[derive(Debug)]
pub struct Ingested {
    /// Orders that could be read completely, in the order of their first row.
    pub orders: Vec<Order>,
    /// Rows that could not be read, in file order.
    pub invalid: Vec<InvalidRow>,
    /// Data rows read (header excluded).
    pub rows: u64,
    /// Things a seller should look at that did not stop a row.
    pub warnings: Vec<String>,
    /// Encoding the file was decoded from.
    pub encoding: &'static str,
    /// The delimiter used.
    pub delimiter: u8,
    /// The layout and mapping in use (`None` for an empty file).
    pub mapping: Option<Mapping>,
    /// For each mapped field, the header(s) looked for and the 1-based column found.
    pub mapped: Vec<(Field, String, Option<usize>)>,
    /// Every status label seen (as written, trimmed) and how many rows carry it.
    pub statuses: BTreeMap<String, u64>,
}

/// How much text is read ahead to find the header line.
const HEADER_PEEK: usize = 64 * 1024;

/// An export opened for reading: decoded, its delimiter known, its header row read.
pub struct Opened {
    /// The name used in messages.
    pub path: PathBuf,
    /// The records after the header.
    csv: csv::Reader<Watched<Box<dyn Read>>>,
    /// The watch on the text the records come from.
    watch: Rc<std::cell::RefCell<Watch>>,
    /// The header row as written.
    pub headers: Vec<String>,
    /// The encoding the file was decoded from.
    pub encoding: &'static str,
    /// The delimiter in use.
    pub delimiter: u8,
}

/// Opens the export and reads its header row.
///
/// # Errors
/// The file cannot be opened or read, or is binary.
pub fn open(source: &Source, settings: &Settings) -> Result<Opened, Error> {
    let path = source.display();
    let io_error = |e| Error::Read {
        path: path.clone(),
        source: e,
    };
    let decoded = decode::decode(source.open()?, settings.encoding).map_err(io_error)?;
    if let Some((what, todo)) = decoded.not_csv {
        return Err(Error::Export {
            path,
            message: format!("is {what}, not a CSV order export; {todo}"),
        });
    }
    let mut text = decoded.reader;
    let mut head = Vec::new();
    while head.len() < HEADER_PEEK && !head.contains(&b'\n') {
        let mut chunk = [0u8; 8192];
        let n = text.read(&mut chunk).map_err(io_error)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    // Excel may write `sep=;` as the first line: it names the delimiter and is no header.
    let mut first_line = 1;
    let mut named = settings.delimiter;
    if let Some((delimiter, len)) = watch::excel_sep_line(&head) {
        head.drain(..len);
        first_line = 2;
        named = named.or(Some(delimiter));
    }
    let delimiter = named.unwrap_or_else(|| watch::guess_delimiter(&head));
    let watch = Watch::new(delimiter, first_line);
    let text: Box<dyn Read> = Box::new(Cursor::new(head).chain(text));
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .delimiter(delimiter)
        .buffer_capacity(256 * 1024)
        .from_reader(Watched::new(text, Rc::clone(&watch)));
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| csv_error(&path, &e))?
        .iter()
        .map(str::to_owned)
        .collect();
    // The header row's own line.
    watch.borrow_mut().next_record_line();
    Ok(Opened {
        path,
        csv,
        watch,
        headers,
        encoding: decoded.encoding,
        delimiter,
    })
}

/// Reads and groups the export.
///
/// # Errors
/// The file cannot be opened or read, is not a text CSV file, or lacks a required (or
/// explicitly mapped) column.
pub fn read(source: &Source, settings: &Settings) -> Result<Ingested, Error> {
    let Opened {
        path,
        mut csv,
        watch,
        headers,
        encoding,
        delimiter,
    } = open(source, settings)?;
    let mut ingested = Ingested {
        orders: Vec::new(),
        invalid: Vec::new(),
        rows: 0,
        warnings: Vec::new(),
        encoding,
        delimiter,
        mapping: None,
        mapped: Vec::new(),
        statuses: BTreeMap::new(),
    };
    if headers.iter().all(|h| normalize_header(h).is_empty()) {
        ingested
            .warnings
            .push(format!("{}: the file is empty: no orders", path.display()));
        return Ok(ingested);
    }
    if headers.len() == 1 {
        return Err(Error::Export {
            path,
            message: "has no comma, semicolon or tab in its first line, so it is not a CSV order export (if it uses another separator, set [source].delimiter)".into(),
        });
    }
    let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
    let mapping = Mapping::for_headers(settings, &normalized);
    let columns = Columns::find(&path, &headers, &mapping, &mut ingested.warnings)?;
    ingested.mapped = mapping
        .columns
        .iter()
        .map(|(field, candidates, _)| match columns.header(*field) {
            // The header as the file writes it.
            Some((column, header)) => (*field, header.to_owned(), Some(column)),
            None => (
                *field,
                candidates
                    .iter()
                    .map(|c| c.join(" + "))
                    .collect::<Vec<_>>()
                    .join(" or "),
                None,
            ),
        })
        .collect();

    // Each record is handled when the next one arrives, so that the last one can be judged
    // knowing whether the file ends inside a quoted field (a cut-off download).
    let mut grouper = Grouper::default();
    let mut current = csv::StringRecord::new();
    let mut previous = csv::StringRecord::new();
    let mut previous_line: Option<u64> = None;
    loop {
        let read = csv.read_record(&mut current);
        let at_end = matches!(read, Ok(false));
        if let Some(line) = previous_line.take() {
            let cut = at_end && {
                let watch = watch.borrow();
                // Cut inside a quoted field, or mid-row with the rest of its cells missing.
                watch.inside_quotes()
                    || (!watch.ends_with_newline() && previous.len() < columns.width)
            };
            if cut {
                let order_id = columns.order_id(&previous);
                grouper.poison(&order_id);
                ingested.invalid.push(InvalidRow {
                    line,
                    column: None,
                    buyer: row::buyer_of(&previous, &columns),
                    order_id,
                    value: String::new(),
                    error: "the file ends in the middle of this row, so it was cut off (an interrupted download?); download the export again".into(),
                });
            } else {
                take_row(
                    &previous,
                    line,
                    &columns,
                    &mapping,
                    settings,
                    &mut grouper,
                    &mut ingested,
                );
            }
        }
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(csv_error(&path, &e));
            }
            Err(e) => {
                let line = watch.borrow_mut().next_record_line();
                let error = if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    format!(
                        "has bytes that are not valid {}; set [source].encoding to the export's encoding (like \"gb18030\" or \"windows-1252\")",
                        ingested.encoding
                    )
                } else {
                    crate::error::chain(&e)
                };
                ingested.rows += 1;
                ingested.invalid.push(InvalidRow {
                    line,
                    column: None,
                    order_id: String::new(),
                    buyer: String::new(),
                    value: String::new(),
                    error,
                });
                continue;
            }
        }
        let line = watch.borrow_mut().next_record_line();
        ingested.rows += 1;
        if current.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        std::mem::swap(&mut current, &mut previous);
        previous_line = Some(line);
    }
    ingested.orders = grouper.finish(settings, &columns, &mut ingested.invalid);
    ingested.invalid.sort_by_key(|row| row.line);
    ingested.mapping = Some(mapping);
    Ok(ingested)
}

/// Parses one complete record into the grouper, or reports it.
fn take_row(
    record: &csv::StringRecord,
    line: u64,
    columns: &Columns,
    mapping: &Mapping,
    settings: &Settings,
    grouper: &mut Grouper,
    ingested: &mut Ingested,
) {
    if let Some(label) = columns.get(record, Field::Status) {
        *ingested
            .statuses
            .entry(label.trim().to_owned())
            .or_default() += 1;
    }
    let result = if record
        .iter()
        .skip(columns.width)
        .any(|cell| !cell.trim().is_empty())
    {
        Err(Box::new(InvalidRow {
            line,
            column: Some(columns.width + 1),
            order_id: columns.order_id(record),
            buyer: row::buyer_of(record, columns),
            value: record.get(columns.width).unwrap_or_default().to_owned(),
            error: format!(
                "the row has {} cells but the header has {}: a value containing the delimiter is not quoted (a decimal comma?); fix the export or set [source].delimiter",
                record.len(),
                columns.width
            ),
        }))
    } else if ingested.encoding != "UTF-8" && record.as_slice().contains('\u{fffd}') {
        // The decoder's mark for bytes the encoding has no character for (a UTF-8 file keeps
        // a real U+FFFD: invalid UTF-8 is caught by the CSV reader instead).
        Err(Box::new(InvalidRow {
            line,
            column: None,
            order_id: columns.order_id(record),
            buyer: row::buyer_of(record, columns),
            value: String::new(),
            error: format!(
                "has bytes that are not valid {}; set [source].encoding to the export's encoding (like \"gb18030\" or \"windows-1252\")",
                ingested.encoding
            ),
        }))
    } else {
        row::parse(record, line, columns, mapping, settings.timezone)
    };
    match result {
        Ok(row) => {
            if let Some(contradiction) = grouper.add(row, &mut ingested.warnings) {
                ingested.invalid.push(contradiction);
            }
        }
        Err(bad) => {
            grouper.poison(&bad.order_id);
            ingested.invalid.push(*bad);
        }
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> Error {
    match e.kind() {
        csv::ErrorKind::Io(_) => Error::Export {
            path: path.to_owned(),
            message: format!("cannot be read: {}", crate::error::chain(e)),
        },
        _ => Error::Export {
            path: path.to_owned(),
            message: format!(
                "is not a CSV export payremind can read ({}); export the orders as CSV",
                crate::error::chain(e)
            ),
        },
    }
}
