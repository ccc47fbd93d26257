//! Dates written with the year last, as Excel re-saves an export in the seller's locale
//! (`31/12/2023 22:36`, `12/31/2023 10:36 PM`): which of day and month comes first. The seller
//! says it with `[source] date_order`, or `auto` decides it from the whole export, the first
//! time a row has such a date: every time column of every row is read once more, so a row
//! before the one that settles it is read the same way as the rows after it. ISO dates
//! (`2023-12-31`) have their year first and never ask.
//!
//! A day above 12 settles it (`31/12/2023`: day first), and so does a month position above 12
//! (`12/31/2023`: month first). An export where nothing settles it (every number 12 or less),
//! or where both orders appear, leaves each such date unread: its row is invalid, with a
//! message asking for `[source] date_order`, and the other rows go on.

use std::fmt;

use super::columns::Columns;
use super::value::{self, DateOrder, YearLast};
use super::{Source, open};
use crate::config::Settings;
use crate::order::Field;

/// A date with the year last, and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The date as written, without its time.
    pub date: String,
    /// Its line in the file.
    pub line: u64,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on line {}", self.date, self.line)
    }
}

/// How the dates with the year last of one export are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dates {
    /// `[source] date_order` says it.
    Set(DateOrder),
    /// The export settles it: the first date, in file order, that can be read only this way.
    Settled(DateOrder, Seen),
    /// Nothing settles it: every day and month is 12 or less (the first such date, unless the
    /// export could not be read again).
    Unsettled(Option<Seen>),
    /// The export has dates of both orders (the first of each).
    Conflicting {
        /// A date that can only be day first.
        day_first: Seen,
        /// A date that can only be month first.
        month_first: Seen,
    },
}

impl Dates {
    /// The order a date with the year last is read in, or why it cannot be read.
    ///
    /// # Errors
    /// The export does not settle it: what the seller must set.
    pub fn order(&self) -> Result<DateOrder, String> {
        match self {
            Dates::Set(order) | Dates::Settled(order, _) => Ok(*order),
            Dates::Unsettled(_) => Err(
                "could be day or month first, and no date in the export settles it (every day is 12 or less); set [source].date_order = \"dmy\" (31/12/2023) or \"mdy\" (12/31/2023)".into(),
            ),
            Dates::Conflicting {
                day_first,
                month_first,
            } => Err(format!(
                "could be day or month first: the export has both ({day_first} is day first, {month_first} month first); set [source].date_order = \"dmy\" or \"mdy\""
            )),
        }
    }

    /// Decides for the export at `source`, reading every date with the year last in the
    /// columns its header maps (`columns`): a cell that is a date and time only one way round
    /// settles it.
    #[must_use]
    pub fn decide(source: &Source, settings: &Settings, columns: &Columns) -> Dates {
        let mut day_first = None;
        let mut month_first = None;
        let mut ambiguous = None;
        // A file that cannot be read again reads as one that settles nothing; the reading
        // that asked reports the error itself.
        if let Ok(mut opened) = open(source, settings) {
            let mut record = csv::StringRecord::new();
            loop {
                let read = opened.csv.read_record(&mut record);
                if matches!(read, Ok(false))
                    || read
                        .as_ref()
                        .is_err_and(|e| matches!(e.kind(), csv::ErrorKind::Io(_)))
                {
                    break;
                }
                // As the reading of rows counts lines (see `Stream::read_record`).
                let line = opened.watch.borrow_mut().next_record_line();
                if read.is_err() {
                    continue;
                }
                for field in Field::ALL {
                    let Some(cell) = columns.get(&record, field) else {
                        continue;
                    };
                    let Some(date) = YearLast::split(&cell) else {
                        continue;
                    };
                    // Read both ways, by the parser the rows are read with (a product named
                    // "1/2/2023 calendar" is no date either way).
                    let reads = |order| {
                        value::parse_time_ordered(&cell, chrono_tz::UTC, || Ok(order)).is_ok()
                    };
                    let slot = match (reads(DateOrder::DayFirst), reads(DateOrder::MonthFirst)) {
                        (true, false) => &mut day_first,
                        (false, true) => &mut month_first,
                        (true, true) => &mut ambiguous,
                        (false, false) => continue,
                    };
                    slot.get_or_insert_with(|| Seen {
                        date: date.date.to_owned(),
                        line,
                    });
                }
            }
        }
        match (day_first, month_first, ambiguous) {
            (Some(day_first), Some(month_first), _) => Dates::Conflicting {
                day_first,
                month_first,
            },
            (Some(seen), None, _) => Dates::Settled(DateOrder::DayFirst, seen),
            (None, Some(seen), _) => Dates::Settled(DateOrder::MonthFirst, seen),
            // `None`: asked for a date this reading did not find (it could not read the file
            // again): nothing settles it.
            (None, None, seen) => Dates::Unsettled(seen),
        }
    }
}

/// `check`'s line: what was decided, and why.
impl fmt::Display for Dates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dates::Set(order) => write!(
                f,
                "{} ([source].date_order = \"{}\")",
                order.describe(),
                order.name()
            ),
            Dates::Settled(order, seen) => write!(f, "{} ({seen} settles it)", order.describe()),
            Dates::Unsettled(seen) => {
                let like = seen
                    .as_ref()
                    .map_or_else(String::new, |seen| format!(", like {seen}"));
                write!(
                    f,
                    "day or month first? nothing settles it (every day is 12 or less{like}); set [source].date_order = \"dmy\" or \"mdy\": until then rows with such dates cannot be read"
                )
            }
            Dates::Conflicting {
                day_first,
                month_first,
            } => write!(
                f,
                "day first ({day_first}) and month first ({month_first}) both appear; set [source].date_order = \"dmy\" or \"mdy\": until then rows with such dates cannot be read"
            ),
        }
    }
}
