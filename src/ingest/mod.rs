//! First stage: an export file becomes typed, grouped [`Order`]s. Bytes are decoded
//! ([`decode`]), split into CSV records, mapped by header name (never by position: layouts gain
//! columns every year), parsed cell by cell ([`value`]) and merged per order number, so a
//! multi-row order is one order.
//!
//! A row that cannot be read becomes an [`InvalidRow`] with its line and column; it poisons its
//! order (a half-read order is never reminded) and the rest of the file goes on.

pub mod decode;
pub mod value;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::config::Settings;
use crate::error::Error;
use crate::order::{Field, Money, Order, StatusClass, StoreTime};

/// Where the export comes from: a file, or standard input for `-`.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
}

impl Source {
    /// The export at `path`; `-` is standard input.
    #[must_use]
    pub fn new(path: &Path) -> Source {
        Source {
            path: path.to_owned(),
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
        self.path.as_os_str() == "-"
    }

    fn open(&self) -> Result<Box<dyn Read>, Error> {
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
    /// Header of that column.
    pub header: Option<String>,
    /// The order number on the row, if it could be read.
    pub order_id: String,
    /// The bad value as written.
    pub value: String,
    /// What is wrong with it, and what to do.
    pub error: String,
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
    /// Things a seller should look at that did not stop a row (disagreeing rows of one order).
    pub warnings: Vec<String>,
    /// Encoding the file was decoded from.
    pub encoding: &'static str,
    /// The headers as found in the file.
    pub headers: Vec<String>,
    /// For each mapped field, the 1-based column it was found in.
    pub mapped: Vec<(Field, String, Option<usize>)>,
    /// Every status label seen (as written, trimmed) and how many rows carry it.
    pub statuses: BTreeMap<String, u64>,
}

/// Reads and groups the export.
///
/// # Errors
/// The file cannot be opened or read, is not a text CSV file, or lacks a required (or
/// explicitly mapped) column.
pub fn read(source: &Source, settings: &Settings) -> Result<Ingested, Error> {
    let path = source.display();
    let decoded = decode::decode(source.open()?).map_err(|e| Error::Read {
        path: path.clone(),
        source: e,
    })?;
    if decoded.binary {
        return Err(Error::Export {
            path,
            message: "is a binary file, not a CSV order export; export the orders as CSV and point --orders at that file".into(),
        });
    }
    let mut ingested = Ingested {
        orders: Vec::new(),
        invalid: Vec::new(),
        rows: 0,
        warnings: Vec::new(),
        encoding: decoded.encoding,
        headers: Vec::new(),
        mapped: Vec::new(),
        statuses: BTreeMap::new(),
    };
    if decoded.empty {
        ingested
            .warnings
            .push(format!("{}: the file is empty: no orders", path.display()));
        return Ok(ingested);
    }

    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .buffer_capacity(256 * 1024)
        .from_reader(decoded.reader);
    let headers = csv.headers().map_err(|e| csv_error(&path, &e))?.clone();
    ingested.headers = headers.iter().map(str::to_owned).collect();
    let columns = map_columns(&path, &ingested.headers, settings)?;
    ingested.mapped = settings
        .columns
        .iter()
        .map(|(field, header, _)| (*field, header.clone(), columns.index(*field).map(|i| i + 1)))
        .collect();

    let mut grouper = Grouper::default();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(csv_error(&path, &e));
                }
                ingested.rows += 1;
                ingested.invalid.push(InvalidRow {
                    line,
                    column: None,
                    header: None,
                    order_id: String::new(),
                    value: String::new(),
                    error: crate::error::chain(&e),
                });
                continue;
            }
        }
        ingested.rows += 1;
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if let Some(label) = columns.get(&record, Field::Status) {
            *ingested.statuses.entry(label.to_owned()).or_default() += 1;
        }
        match parse_row(&record, line, &columns, settings) {
            Ok(row) => grouper.add(row, &mut ingested.warnings),
            Err(bad) => {
                grouper.poison(&bad.order_id);
                ingested.invalid.push(*bad);
            }
        }
    }
    ingested.orders = grouper.finish(settings, &columns, &mut ingested.invalid);
    ingested.invalid.sort_by_key(|row| row.line);
    Ok(ingested)
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

/// Which column holds each field.
struct Columns {
    index: Vec<(Field, usize, String)>,
}

impl Columns {
    fn index(&self, field: Field) -> Option<usize> {
        self.index
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, i, _)| *i)
    }

    /// The cell for `field`, unwrapped from Excel's protection; `None` when empty or unmapped.
    fn get<'r>(&self, record: &'r csv::StringRecord, field: Field) -> Option<&'r str> {
        self.index(field)
            .and_then(|i| record.get(i))
            .map(value::unwrap_excel)
            .filter(|v| !v.is_empty())
    }

    fn header(&self, field: Field) -> Option<(usize, &str)> {
        self.index
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, i, h)| (i + 1, h.as_str()))
    }
}

/// A header as a seller would read it: BOM, surrounding spaces and everything after an
/// embedded newline removed, look-alike Cyrillic capitals read as Latin.
#[must_use]
pub fn normalize_header(header: &str) -> String {
    let first_line = header
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    first_line
        .trim()
        .chars()
        .map(|c| match c {
            'А' => 'A',
            'В' => 'B',
            'С' => 'C',
            'Е' => 'E',
            'Н' => 'H',
            'К' => 'K',
            'М' => 'M',
            'О' => 'O',
            'Р' => 'P',
            'Т' => 'T',
            'Х' => 'X',
            other => other,
        })
        .collect()
}

fn map_columns(path: &Path, headers: &[String], settings: &Settings) -> Result<Columns, Error> {
    let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
    let find = |wanted: &str| {
        let wanted = normalize_header(wanted);
        normalized.iter().position(|h| *h == wanted).or_else(|| {
            normalized
                .iter()
                .position(|h| h.eq_ignore_ascii_case(&wanted))
        })
    };
    let mut index = Vec::new();
    for (field, header, explicit) in &settings.columns {
        match find(header) {
            Some(i) => index.push((*field, i, headers[i].clone())),
            None if field.required() || *explicit => {
                return Err(Error::MissingColumn {
                    path: path.to_owned(),
                    field: field.key(),
                    header: header.clone(),
                    found: normalized.join(", "),
                });
            }
            None => {}
        }
    }
    Ok(Columns { index })
}

/// One row's values, parsed; `None` = empty cell (a continuation row leaves order fields empty).
struct Row {
    line: u64,
    order_id: String,
    buyer_id: Option<String>,
    buyer_name: Option<String>,
    email: Option<String>,
    country: Option<String>,
    status: Option<(String, StatusClass)>,
    created_at: Option<StoreTime>,
    paid_at: Option<StoreTime>,
    total: Option<Decimal>,
    currency: Option<String>,
    channel: Option<String>,
    product: Option<String>,
    prior_paid_orders: Option<u32>,
    close_at: Option<StoreTime>,
}

fn parse_row(
    record: &csv::StringRecord,
    line: u64,
    columns: &Columns,
    settings: &Settings,
) -> Result<Row, Box<InvalidRow>> {
    let cells = Cells {
        record,
        columns,
        line,
        order_id: columns.get(record, Field::OrderId).unwrap_or_default(),
    };
    if cells.order_id.is_empty() {
        return Err(cells.invalid(
            Field::OrderId,
            "",
            "is empty; every row needs its order number",
        ));
    }
    for field in [Field::OrderId, Field::BuyerId] {
        if let Some(v) = cells
            .text(field)
            .filter(|v| value::is_excel_mangled_number(v))
        {
            return Err(cells.invalid(
                field,
                v,
                "was turned into a number by Excel and its digits are lost; download the export again and do not open and save it in Excel",
            ));
        }
    }
    let status = cells.parse(Field::Status, |label| {
        settings
            .status_class(label)
            .map(|class| (label.to_owned(), class))
            .ok_or_else(|| {
                format!("{label:?} is not listed in [statuses]; add it to unpaid, paid or closed in the config")
            })
    })?;
    let zone = settings.timezone;
    let time = |v: &str| value::parse_time(v, zone);
    let owned = |field| cells.text(field).map(str::to_owned);
    Ok(Row {
        line,
        order_id: cells.order_id.to_owned(),
        buyer_id: owned(Field::BuyerId),
        buyer_name: owned(Field::BuyerName),
        email: owned(Field::Email),
        country: owned(Field::Country),
        status,
        created_at: cells.parse(Field::CreatedAt, time)?,
        paid_at: cells.parse(Field::PaidAt, time)?,
        total: cells.parse(Field::Total, value::parse_money)?,
        currency: cells.text(Field::Currency).map(str::to_uppercase),
        channel: owned(Field::Channel),
        product: owned(Field::Product),
        prior_paid_orders: cells.parse(Field::PriorPaidOrders, value::parse_count)?,
        close_at: cells.parse(Field::CloseAt, time)?,
    })
}

/// One record's cells, with what a bad cell's report needs.
struct Cells<'r> {
    record: &'r csv::StringRecord,
    columns: &'r Columns,
    line: u64,
    order_id: &'r str,
}

impl<'r> Cells<'r> {
    fn text(&self, field: Field) -> Option<&'r str> {
        self.columns.get(self.record, field)
    }

    /// The parsed cell; `None` when empty or unmapped.
    fn parse<T>(
        &self,
        field: Field,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Box<InvalidRow>> {
        self.text(field)
            .map(|v| parse(v).map_err(|e| self.invalid(field, v, &e)))
            .transpose()
    }

    fn invalid(&self, field: Field, value: &str, error: &str) -> Box<InvalidRow> {
        let (column, header) = self
            .columns
            .header(field)
            .map_or((None, None), |(c, h)| (Some(c), Some(h.to_owned())));
        Box::new(InvalidRow {
            line: self.line,
            column,
            header,
            order_id: self.order_id.to_owned(),
            value: value.to_owned(),
            error: format!("{field} {error}"),
        })
    }
}

/// Merges rows into orders by order number, keeping the order of first appearance.
#[derive(Default)]
struct Grouper {
    by_id: HashMap<String, usize>,
    orders: Vec<Row>,
    products: Vec<Vec<String>>,
    rows: Vec<u32>,
    poisoned: HashSet<String>,
}

impl Grouper {
    fn add(&mut self, row: Row, warnings: &mut Vec<String>) {
        let Some(&i) = self.by_id.get(&row.order_id) else {
            self.by_id.insert(row.order_id.clone(), self.orders.len());
            self.products
                .push(row.product.clone().into_iter().collect());
            self.rows.push(1);
            self.orders.push(row);
            return;
        };
        self.rows[i] += 1;
        if let Some(product) = row.product.clone() {
            self.products[i].push(product);
        }
        let first = &mut self.orders[i];
        let mut conflicts = Vec::new();
        merge(
            &mut first.buyer_id,
            row.buyer_id,
            Field::BuyerId,
            &mut conflicts,
        );
        merge(
            &mut first.buyer_name,
            row.buyer_name,
            Field::BuyerName,
            &mut conflicts,
        );
        merge(&mut first.email, row.email, Field::Email, &mut conflicts);
        merge(
            &mut first.country,
            row.country,
            Field::Country,
            &mut conflicts,
        );
        merge(&mut first.status, row.status, Field::Status, &mut conflicts);
        merge(
            &mut first.created_at,
            row.created_at,
            Field::CreatedAt,
            &mut conflicts,
        );
        merge(
            &mut first.paid_at,
            row.paid_at,
            Field::PaidAt,
            &mut conflicts,
        );
        merge(&mut first.total, row.total, Field::Total, &mut conflicts);
        merge(
            &mut first.currency,
            row.currency,
            Field::Currency,
            &mut conflicts,
        );
        merge(
            &mut first.channel,
            row.channel,
            Field::Channel,
            &mut conflicts,
        );
        merge(
            &mut first.prior_paid_orders,
            row.prior_paid_orders,
            Field::PriorPaidOrders,
            &mut conflicts,
        );
        merge(
            &mut first.close_at,
            row.close_at,
            Field::CloseAt,
            &mut conflicts,
        );
        if !conflicts.is_empty() {
            warnings.push(format!(
                "line {}: order {} has a different {} than on line {}; using line {}'s",
                row.line,
                first.order_id,
                conflicts.join(", "),
                first.line,
                first.line
            ));
        }
    }

    fn poison(&mut self, order_id: &str) {
        self.poisoned.insert(order_id.to_owned());
    }

    fn finish(
        self,
        settings: &Settings,
        columns: &Columns,
        invalid: &mut Vec<InvalidRow>,
    ) -> Vec<Order> {
        let mut orders = Vec::with_capacity(self.orders.len());
        let rows = self.orders.into_iter().zip(self.products).zip(self.rows);
        for ((row, products), row_count) in rows {
            if self.poisoned.contains(&row.order_id) {
                continue;
            }
            let missing = |field: Field| {
                let (column, header) = columns
                    .header(field)
                    .map_or((None, None), |(c, h)| (Some(c), Some(h.to_owned())));
                InvalidRow {
                    line: row.line,
                    column,
                    header,
                    order_id: row.order_id.clone(),
                    value: String::new(),
                    error: format!("{field} is empty on every row of order {}", row.order_id),
                }
            };
            let Some((status_label, status)) = row.status else {
                invalid.push(missing(Field::Status));
                continue;
            };
            let Some(created_at) = row.created_at else {
                invalid.push(missing(Field::CreatedAt));
                continue;
            };
            let email = row.email.unwrap_or_default();
            let buyer = match row.buyer_id {
                Some(id) => id,
                None if !email.is_empty() => email.to_lowercase(),
                None => format!("order:{}", row.order_id),
            };
            let currency = row
                .currency
                .unwrap_or_else(|| settings.shop.currency.clone());
            orders.push(Order {
                line: row.line,
                id: row.order_id,
                buyer,
                buyer_name: row.buyer_name.unwrap_or_default(),
                email,
                country: row.country.unwrap_or_default(),
                status_label,
                status,
                created_at,
                paid_at: row.paid_at,
                total: row.total.map(|amount| Money { amount, currency }),
                channel: row.channel.unwrap_or_default(),
                products,
                rows: row_count,
                prior_paid_orders: row.prior_paid_orders,
                close_at: row.close_at,
            });
        }
        orders
    }
}

/// Fills an empty order field from a later row; notes the field when both rows have a value
/// and they differ.
fn merge<T: PartialEq>(
    first: &mut Option<T>,
    later: Option<T>,
    field: Field,
    conflicts: &mut Vec<String>,
) {
    match (first.as_ref(), later) {
        (None, later) => *first = later,
        (Some(a), Some(b)) if *a != b => conflicts.push(field.key().to_owned()),
        _ => {}
    }
}
