//! First stage: an export file becomes typed, grouped [`Order`]s, in this order:
//!
//! 1. [`decode`]: bytes to UTF-8 text (BOM, UTF-8, or a legacy encoding like GB18030).
//! 2. [`watch`]: the delimiter is guessed; line starts and unclosed quotes are tracked.
//! 3. [`layout`]: the header row names the layout (Shopify, WooCommerce, AliExpress, Taobao or
//!    generic), whose preset maps fields to headers and status words to classes.
//! 4. [`columns`]: headers to positions, by name, never by position.
//! 5. `row`: each record's cells parsed ([`value`]); [`dates`] says whether `31/12/2023` is
//!    day or month first.
//! 6. `group`: rows merged per order number, so a multi-row order is one order.
//!
//! A row that cannot be read becomes an [`InvalidRow`] with its line and column; it keeps its
//! order quiet (a half-read order is never reminded) and the rest of the file goes on.

pub mod columns;
pub mod dates;
pub mod decode;
pub mod group;
pub mod layout;
pub mod product;
mod row;
pub mod value;
pub mod watch;

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{Cursor, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use self::columns::{Columns, normalize_header};
use self::dates::Dates;
use self::group::Grouper;
pub use self::group::Grouping;
use self::layout::Mapping;
use self::watch::{Watch, Watched};
use crate::config::Settings;
use crate::error::Error;
use crate::order::{Field, InvalidRow, Order, Text};

/// Where the export comes from: a file, standard input for `-`, or bytes already in memory.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
    bytes: Option<std::sync::Arc<[u8]>>,
    /// How this export's year-last dates read (day or month first), once a reading decided
    /// it: the other readings of the same run reuse it instead of scanning the file again.
    dates: std::sync::Arc<std::sync::OnceLock<Dates>>,
}

impl Source {
    /// The export at `path`; `-` is standard input.
    #[must_use]
    pub fn new(path: &Path) -> Source {
        Source {
            path: path.to_owned(),
            bytes: None,
            dates: std::sync::Arc::default(),
        }
    }

    /// An export held in memory (tests, fuzzing, embedding); `name` is shown in messages.
    #[must_use]
    pub fn from_bytes(name: &str, bytes: impl Into<std::sync::Arc<[u8]>>) -> Source {
        Source {
            path: PathBuf::from(name),
            bytes: Some(bytes.into()),
            dates: std::sync::Arc::default(),
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

    /// The same export, readable more than once: standard input, a pipe or anything else
    /// that is not a regular file (`<(…)`, `/dev/stdin`, a FIFO) is read into memory; a file
    /// is read again from disk.
    ///
    /// # Errors
    /// The export cannot be opened or read.
    pub fn rereadable(&self) -> Result<Source, Error> {
        if self.bytes.is_some() {
            return Ok(self.clone());
        }
        let regular = !self.is_stdin() && std::fs::metadata(&self.path).is_ok_and(|m| m.is_file());
        if regular {
            return Ok(self.clone());
        }
        let mut bytes = Vec::new();
        self.open()?
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Read {
                path: self.display(),
                source,
            })?;
        Ok(Source {
            path: self.display(),
            bytes: Some(bytes.into()),
            dates: std::sync::Arc::default(),
        })
    }

    /// Opens the export once, to refuse before anything else what cannot be read (not a
    /// regular file, too large, not there).
    ///
    /// # Errors
    /// The export cannot be opened.
    pub fn check_readable(&self) -> Result<(), Error> {
        self.open().map(drop)
    }

    /// Standard input: `-`, or its names in `/dev` and `/proc` (`--orders /dev/stdin`).
    fn is_stdin(&self) -> bool {
        self.bytes.is_none()
            && ["-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"]
                .iter()
                .any(|name| self.path.as_os_str() == *name)
    }

    fn open(&self) -> Result<Box<dyn Read>, Error> {
        if let Some(bytes) = &self.bytes {
            return Ok(Box::new(Cursor::new(std::sync::Arc::clone(bytes))));
        }
        if self.is_stdin() {
            return Ok(Box::new(Bounded::new(std::io::stdin())));
        }
        // Looked at before it is opened: opening a FIFO waits for a writer, for ever if none
        // comes, and a device (`/dev/zero`) never ends.
        let meta = std::fs::metadata(&self.path).map_err(|source| Error::Read {
            path: self.path.clone(),
            source,
        })?;
        if !meta.is_file() {
            return Err(Error::Export {
                path: self.path.clone(),
                message: "is not a regular file (a folder, a FIFO, a device or a process substitution); give the export file itself, or pipe a program's output in with `--orders -`".into(),
            });
        }
        if meta.len() > MAX_EXPORT {
            return Err(too_big(&self.path));
        }
        let file = File::open(&self.path).map_err(|source| Error::Read {
            path: self.path.clone(),
            source,
        })?;
        Ok(Box::new(Bounded::new(std::io::BufReader::with_capacity(
            256 * 1024,
            file,
        ))))
    }
}

/// The most an export may be: a marketplace's export of years of orders is a few GB. More is a
/// file still being written without end, or not an export at all; reading stops there.
pub const MAX_EXPORT: u64 = 4 << 30;

fn too_big(path: &Path) -> Error {
    Error::Export {
        path: path.to_owned(),
        message: format!(
            "is larger than {} GiB, more than an export can be (a file still being written?); give payremind a finished export",
            MAX_EXPORT >> 30
        ),
    }
}

/// A reader that fails once more than `limit` bytes came through: a file that grows while it
/// is read, or standard input without end, cannot take all memory or time.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Bounded<R> {
    fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_EXPORT)
    }

    fn with_limit(inner: R, limit: u64) -> Self {
        Bounded { inner, left: limit }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let n64 = n as u64;
        if n64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!(
                    "it grew past {} GiB while being read, more than an export can be",
                    MAX_EXPORT >> 30
                ),
            ));
        }
        self.left -= n64;
        Ok(n)
    }
}

/// Everything ingest learned from one export, held in memory ([`read`]).
#[derive(Debug)]
pub struct Ingested {
    /// Orders that could be read completely, in the order of their first row.
    pub orders: Vec<Order>,
    /// Rows that could not be read, in file order.
    pub invalid: Vec<InvalidRow>,
    /// What else the export said.
    pub info: ExportInfo,
}

/// What an export says besides its orders; the counts are complete once it has been read.
#[derive(Debug)]
pub struct ExportInfo {
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
    /// How the rows were grouped into orders.
    pub grouping: Grouping,
    /// How dates with the year last (`31/12/2023`) were read; `None`: the export has none
    /// (and `[source] date_order` is `auto`).
    pub dates: Option<Dates>,
}

impl ExportInfo {
    /// Whether the totals' currency is in the export: a currency column, or a layout whose
    /// marketplace has one currency. Else it must come from `[shop] currency`.
    #[must_use]
    pub fn has_currency(&self) -> bool {
        self.mapped
            .iter()
            .any(|(field, _, column)| *field == Field::Currency && column.is_some())
            || self
                .mapping
                .as_ref()
                .is_some_and(|m| m.layout.preset().currency.is_some())
    }
}

/// How much of each order to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything.
    Full,
    /// Only what the decisions rest on: the buyer's name, the country and the product lines
    /// (shown, never checked) are left empty, and so are the warnings about names that
    /// differ between the rows of an order. Every row is still checked as with `Full`.
    Decisions,
}

/// One thing an export yields, in file order: an order (at its first row) or a bad row.
#[derive(Debug)]
// Orders are most items and each is moved once: boxing them would cost an allocation per order
// to save a few hundred bytes of stack on the rarer bad rows.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// An order read completely, its rows merged.
    Order(Order),
    /// A row that could not be read.
    Invalid(InvalidRow),
}

/// How many warnings an export keeps; the rest are counted.
const WARNINGS_KEPT: usize = 50;

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
    /// A warning when the encoding was guessed on uncertain evidence.
    pub guessed: Option<String>,
}

impl Opened {
    /// Up to `per_column` non-empty cells of each column (trimmed, Excel's wrappers removed),
    /// from the first `rows` rows at most: what `init` checks a guessed column against. A
    /// record that cannot be read is passed over.
    #[must_use]
    pub fn sample(mut self, per_column: usize, rows: usize) -> Vec<Vec<String>> {
        let mut columns = vec![Vec::new(); self.headers.len()];
        let mut record = csv::StringRecord::new();
        for _ in 0..rows {
            match self.csv.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => break,
                Err(_) => continue,
            }
            for (cells, cell) in columns.iter_mut().zip(record.iter()) {
                let cell = value::unwrap_excel(cell);
                if !cell.is_empty() && cells.len() < per_column {
                    cells.push(cell.to_owned());
                }
            }
            if columns.iter().all(|cells| cells.len() >= per_column) {
                break;
            }
        }
        columns
    }
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
        guessed: decoded.guessed,
    })
}

/// Reads the whole export into memory: every order and bad row.
///
/// # Errors
/// The file cannot be opened or read, is not a text CSV file, or lacks a required (or
/// explicitly mapped) column.
pub fn read(source: &Source, settings: &Settings) -> Result<Ingested, Error> {
    // Read again if its dates must be decided.
    let source = &source.rereadable()?;
    let mut stream = Stream::open(source, settings, Grouping::Whole)?;
    let (mut orders, mut invalid) = (Vec::new(), Vec::new());
    while let Some(item) = stream.next_item()? {
        match item {
            Item::Order(order) => orders.push(order),
            Item::Invalid(row) => invalid.push(row),
        }
    }
    Ok(Ingested {
        orders,
        invalid,
        info: stream.info,
    })
}

/// Reads the export once, handing each order and bad row to `visit` (in file order), with
/// memory that does not grow with the file. An export whose orders are scattered is read again
/// whole: `start` gives `visit` a fresh state each time (and must undo whatever `visit` did
/// outside that state: the first reading saw fragments of orders). Returns the last state and
/// what the export said; read it again with the same [`ExportInfo::grouping`] to see the same
/// items.
///
/// # Errors
/// What [`Stream::open`] and `visit` return, or a read error.
pub fn visit<S>(
    source: &Source,
    settings: &Settings,
    detail: Detail,
    mut start: impl FnMut() -> Result<S, Error>,
    mut visit: impl FnMut(&mut S, &Item) -> Result<(), Error>,
) -> Result<(S, ExportInfo), Error> {
    // Standard input and pipes are read into memory, in case they have to be read again.
    let source = &source.rereadable()?;
    for grouping in [Grouping::Adjacent, Grouping::Whole] {
        let mut state = start()?;
        let (info, scattered) = each(source, settings, grouping, detail, |item| {
            visit(&mut state, item).map(|()| ControlFlow::Continue(()))
        })?;
        if !scattered {
            return Ok((state, info));
        }
    }
    unreachable!("whole grouping never finds scattered orders")
}

/// How many items the reading thread hands over at a time: enough to make the hand-over
/// cheap, few enough to keep memory flat.
const BATCH: usize = 1024;

/// Reads the export with `grouping`, showing each item to `visit` until it breaks. The file
/// is read and parsed on a second thread while `visit` works on the items already read: on a
/// big export both are busy most of the time. Returns what the export said and whether its
/// orders turned out scattered ([`Stream::scattered`]).
///
/// Items go back to the reading thread to be dropped: freeing memory on the thread that
/// allocated it keeps malloc on its fast path (freed from the other thread, glibc's malloc
/// took a third of a big run's time).
///
/// # Errors
/// What [`Stream::open`] and `visit` return, or a read error.
pub fn each(
    source: &Source,
    settings: &Settings,
    grouping: Grouping,
    detail: Detail,
    mut visit: impl FnMut(&Item) -> Result<ControlFlow<()>, Error>,
) -> Result<(ExportInfo, bool), Error> {
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<Item>>(4);
        let (give_back, given_back) = std::sync::mpsc::sync_channel::<Vec<Item>>(8);
        let reader = scope.spawn(move || {
            let mut stream = Stream::open(source, settings, grouping)?.with_detail(detail);
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(item) = stream.next_item()? {
                batch.push(item);
                if batch.len() == BATCH {
                    let next = match given_back.try_recv() {
                        Ok(mut used) => {
                            used.clear();
                            used
                        }
                        Err(_) => Vec::with_capacity(BATCH),
                    };
                    if batches.send(std::mem::replace(&mut batch, next)).is_err() {
                        // `visit` is done: the rest of the file is not needed.
                        break;
                    }
                }
            }
            // Fails only when `visit` is done, which needs nothing more.
            batches.send(batch).ok();
            let scattered = stream.scattered();
            Ok::<_, Error>((stream.info, scattered))
        });
        let visited = received.iter().try_for_each(|batch| {
            for item in &batch {
                match visit(item) {
                    Ok(ControlFlow::Continue(())) => {}
                    Ok(ControlFlow::Break(())) => return Err(None),
                    Err(e) => return Err(Some(e)),
                }
            }
            // When the reader has enough batches back, this one is dropped here.
            give_back.try_send(batch).ok();
            Ok(())
        });
        // Stops the reader if `visit` stopped first.
        drop(received);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match visited {
            Err(Some(e)) => Err(e),
            Ok(()) | Err(None) => read,
        }
    })
}

/// An export being read: yields its orders and bad rows one by one, in file order (an order
/// at its first row; bad rows by line).
pub struct Stream<'s> {
    path: PathBuf,
    /// The export, read once more if its dates must be decided ([`Dates::decide`]).
    source: Source,
    /// How dates with the year last are read: set, or decided at the first such date.
    dates: std::cell::OnceCell<Dates>,
    settings: &'s Settings,
    csv: csv::Reader<Watched<Box<dyn Read>>>,
    watch: Rc<std::cell::RefCell<Watch>>,
    /// `None` for an empty file.
    columns: Option<(Columns, Mapping)>,
    grouper: Grouper,
    /// Bad rows not yet handed on, by line.
    pending: VecDeque<InvalidRow>,
    current: csv::StringRecord,
    /// Each record is handled when the next one arrives, so that the last one can be judged
    /// knowing whether the file ends inside a quoted field (a cut-off download).
    previous: csv::StringRecord,
    previous_line: Option<u64>,
    ended: bool,
    detail: Detail,
    /// Warnings past [`WARNINGS_KEPT`], counted.
    warnings_left_out: usize,
    /// What the export says besides its orders (complete at the end).
    pub info: ExportInfo,
}

impl<'s> Stream<'s> {
    /// Opens the export, reads its header row and maps its columns.
    ///
    /// # Errors
    /// The file cannot be opened or read, is not a text CSV file, or lacks a required (or
    /// explicitly mapped) column.
    pub fn open(
        source: &Source,
        settings: &'s Settings,
        grouping: Grouping,
    ) -> Result<Stream<'s>, Error> {
        let Opened {
            path,
            csv,
            watch,
            headers,
            encoding,
            delimiter,
            guessed,
        } = open(source, settings)?;
        let mut info = ExportInfo {
            rows: 0,
            warnings: guessed
                .map(|warning| format!("{}: {warning}", path.display()))
                .into_iter()
                .collect(),
            encoding,
            delimiter,
            mapping: None,
            mapped: Vec::new(),
            statuses: BTreeMap::new(),
            grouping,
            dates: None,
        };
        let mut columns = None;
        if headers.iter().all(|h| normalize_header(h).is_empty()) {
            info.warnings
                .push(format!("{}: the file is empty: no orders", path.display()));
        } else if headers.len() == 1 {
            return Err(Error::Export {
                path,
                message: "has no comma, semicolon or tab in its first line, so it is not a CSV order export (if it uses another separator, set [source].delimiter)".into(),
            });
        } else {
            let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
            let mapping = Mapping::for_headers(&settings.layout, &normalized);
            let found = Columns::find(&path, &headers, &mapping, &mut info.warnings)?;
            info.mapped = mapping
                .columns
                .iter()
                .map(|(field, candidates, _)| match found.header(*field) {
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
            info.mapping = Some(mapping.clone());
            columns = Some((found, mapping));
        }
        Ok(Stream {
            path,
            source: source.clone(),
            dates: settings
                .date_order
                .map(Dates::Set)
                .map(std::cell::OnceCell::from)
                .unwrap_or_default(),
            settings,
            csv,
            watch,
            ended: columns.is_none(),
            columns,
            grouper: Grouper::new(grouping),
            pending: VecDeque::new(),
            current: csv::StringRecord::new(),
            previous: csv::StringRecord::new(),
            previous_line: None,
            warnings_left_out: 0,
            detail: Detail::Full,
            info,
        })
    }

    /// Reads only `detail` of each order.
    #[must_use]
    pub fn with_detail(mut self, detail: Detail) -> Stream<'s> {
        self.detail = detail;
        self
    }

    /// Known once the stream has ended: an order's rows were not adjacent (only with
    /// [`Grouping::Adjacent`]), so its items were wrong; read the export again with
    /// [`Grouping::Whole`].
    #[must_use]
    pub fn scattered(&self) -> bool {
        self.grouper.scattered
    }

    /// The next order or bad row; `None` at the end.
    ///
    /// # Errors
    /// The file cannot be read any further.
    pub fn next_item(&mut self) -> Result<Option<Item>, Error> {
        loop {
            self.pending_from_grouper();
            if let Some(order) = self.grouper.ready.front() {
                // A bad row before the order's first line comes first.
                if self
                    .pending
                    .front()
                    .is_some_and(|row| row.line < order.line)
                {
                    return Ok(self.pending.pop_front().map(Item::Invalid));
                }
                return Ok(self.grouper.ready.pop_front().map(Item::Order));
            }
            if self.ended {
                return Ok(self.pending.pop_front().map(Item::Invalid));
            }
            self.read_record()?;
        }
    }

    /// Moves the grouper's reports into the queue of bad rows.
    fn pending_from_grouper(&mut self) {
        // In the order reported: rows of the same line keep it.
        for row in std::mem::take(&mut self.grouper.invalid) {
            self.report(row);
        }
    }

    /// Queues a bad row, keeping the queue sorted by line.
    fn report(&mut self, row: InvalidRow) {
        let at = self.pending.partition_point(|p| p.line <= row.line);
        self.pending.insert(at, row);
    }

    /// Reads one record and handles the one before it.
    fn read_record(&mut self) -> Result<(), Error> {
        let Some((columns, _)) = &self.columns else {
            self.ended = true;
            return Ok(());
        };
        let width = columns.width;
        let read = self.csv.read_record(&mut self.current);
        let at_end = matches!(read, Ok(false));
        if let Some(line) = self.previous_line.take() {
            let cut = at_end && {
                let watch = self.watch.borrow();
                // Cut inside a quoted field, or mid-row with the rest of its cells missing.
                watch.inside_quotes() || (!watch.ends_with_newline() && self.previous.len() < width)
            };
            if cut {
                let (columns, _) = self.columns.as_ref().expect("checked above");
                let order_id = columns.order_id(&self.previous);
                let buyer = row::buyer_of(&self.previous, columns);
                self.grouper.poison(&order_id, self.settings, columns);
                self.report(InvalidRow {
                    line,
                    column: None,
                    buyer,
                    order_id: order_id.into(),
                    value: String::new(),
                    error: "the file ends in the middle of this row, so it was cut off (an interrupted download?); download the export again".into(),
                });
            } else {
                self.take_row(line);
            }
        }
        match read {
            Ok(false) => {
                let (columns, _) = self.columns.as_ref().expect("checked above");
                self.grouper.end(self.settings, columns);
                self.ended = true;
                self.info.dates = self.dates.get().cloned();
                if self.warnings_left_out > 0 {
                    self.info.warnings.push(format!(
                        "… and {} more warnings like these",
                        self.warnings_left_out
                    ));
                }
                return Ok(());
            }
            Ok(true) => {}
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(csv_error(&self.path, &e));
            }
            Err(e) => {
                let line = self.watch.borrow_mut().next_record_line();
                let error = if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    not_valid_in(self.info.encoding)
                } else {
                    crate::error::chain(&e)
                };
                self.info.rows += 1;
                self.report(InvalidRow {
                    line,
                    column: None,
                    order_id: String::new(),
                    buyer: String::new(),
                    value: String::new(),
                    error,
                });
                return Ok(());
            }
        }
        let line = self.watch.borrow_mut().next_record_line();
        self.info.rows += 1;
        if self.current.iter().all(|cell| value::trim(cell).is_empty()) {
            return Ok(());
        }
        std::mem::swap(&mut self.current, &mut self.previous);
        self.previous_line = Some(line);
        Ok(())
    }

    /// Parses the previous record (complete) into the grouper, or reports it.
    fn take_row(&mut self, line: u64) {
        let record = &self.previous;
        let (columns, mapping) = self.columns.as_ref().expect("a record needs columns");
        let info = &mut self.info;
        if let Some(label) = columns.get(record, Field::Status) {
            let label = value::trim(&label);
            match info.statuses.get_mut(label) {
                Some(count) => *count += 1,
                None => {
                    info.statuses.insert(label.to_owned(), 1);
                }
            }
        }
        // Cells beyond the header's columns are an error unless blank (`skip` would walk the
        // row's cells one by one to get there, for every row).
        let result = if record.len() > columns.width
            && (columns.width..record.len()).any(|c| !value::trim(&record[c]).is_empty())
        {
            Err(Box::new(InvalidRow {
                line,
                column: Some(columns.width + 1),
                order_id: columns.order_id(record).into(),
                buyer: row::buyer_of(record, columns),
                value: record.get(columns.width).unwrap_or_default().to_owned(),
                error: format!(
                    "the row has {} cells but the header has {}: a value containing the delimiter is not quoted (a decimal comma?); fix the export or set [source].delimiter",
                    record.len(),
                    columns.width
                ),
            }))
        } else if info.encoding != "UTF-8" && record.as_slice().contains('\u{fffd}') {
            // The decoder's mark for bytes the encoding has no character for (a UTF-8 file
            // keeps a real U+FFFD: invalid UTF-8 is caught by the CSV reader instead).
            Err(Box::new(InvalidRow {
                line,
                column: None,
                order_id: columns.order_id(record).into(),
                buyer: row::buyer_of(record, columns),
                value: String::new(),
                error: not_valid_in(info.encoding),
            }))
        } else {
            let (source, settings, dates) = (&self.source, self.settings, &self.dates);
            let year_last = || {
                dates
                    .get_or_init(|| {
                        source
                            .dates
                            .get_or_init(|| Dates::decide(source, settings, columns))
                            .clone()
                    })
                    .order()
            };
            row::parse(
                record,
                line,
                columns,
                mapping,
                self.settings.timezone,
                &year_last,
                self.detail,
            )
        };
        match result {
            Ok(mut row) => {
                // A marketplace with one currency (Taobao/Tmall: yuan) needs no
                // `[shop] currency`; its amounts still carry it, so `¥256.00` is written.
                if row.currency.is_none() && self.settings.shop.currency.is_empty() {
                    row.currency = mapping.layout.preset().currency.map(Text::from);
                }
                self.grouper
                    .add(row, self.settings, columns, &mut info.warnings);
                if info.warnings.len() > WARNINGS_KEPT {
                    // One per order at most, but a whole file of them helps nobody: count.
                    self.warnings_left_out += info.warnings.len() - WARNINGS_KEPT;
                    info.warnings.truncate(WARNINGS_KEPT);
                }
            }
            Err(bad) => {
                self.grouper.poison(&bad.order_id, self.settings, columns);
                self.report(*bad);
            }
        }
    }
}

/// A row with bytes its encoding cannot have: what is wrong and what to do.
fn not_valid_in(encoding: &str) -> String {
    format!(
        "has bytes that are not valid {encoding}; set [source].encoding to the export's encoding (like \"gb18030\" or \"windows-1252\")"
    )
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
#[cfg(test)]
mod bounded_tests {
    use super::Bounded;
    use std::io::Read;

    #[test]
    fn a_reader_past_its_bound_fails_instead_of_going_on() {
        let mut within = Bounded::with_limit(&b"12345"[..], 5);
        let mut all = Vec::new();
        within.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"12345");
        let mut past = Bounded::with_limit(std::io::repeat(b'x'), 1 << 20);
        let err = past.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
    }
}
