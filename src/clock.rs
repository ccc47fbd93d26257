//! Time: the only place that reads the wall clock, and the store's calendar. Every stage
//! receives `now` from here or from `--now`, so a what-if run and the tests see exactly the
//! same decisions (clippy.toml bans the clock elsewhere); every "same day" is the store's day
//! ([`StoreZone::day`]), never UTC's.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::order::StoreTime;

use crate::error::Error;

/// The instant a run is evaluated at: `--now` when given, else the clock.
///
/// # Errors
/// `--now` that is not an RFC 3339 instant with an offset.
pub fn evaluation_instant(pinned: Option<&str>) -> Result<DateTime<Utc>, Error> {
    match pinned {
        Some(value) => parse_instant(value),
        None => Ok(wall_clock()),
    }
}

/// How far a sending run's `--now` may be ahead of the clock: the usual drift between two
/// machines' clocks, not a typo's years.
pub const MAX_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A sending run's `--now` may replay a past morning, but not run ahead of the clock: the
/// reminders would be recorded as sent in the future and hold those buyers back (`buyer_cap`)
/// until then. A dry run records nothing and takes any `--now`.
///
/// # Errors
/// `pinned` is more than [`MAX_SKEW`] later than the clock.
pub fn not_ahead(pinned: Option<&str>, now: DateTime<Utc>) -> Result<(), Error> {
    match pinned {
        Some(value) if now > wall_clock() + MAX_SKEW => Err(Error::NowAhead {
            value: value.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Parses `--now`: RFC 3339, so the offset is never guessed.
///
/// # Errors
/// When the value is not RFC 3339.
pub fn parse_instant(value: &str) -> Result<DateTime<Utc>, Error> {
    let text = value.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Now {
            value: value.to_owned(),
            message: what_is_wrong(text).to_owned(),
        })
}

/// Why `--now` is not an instant, in a seller's words rather than the parser's.
fn what_is_wrong(text: &str) -> &'static str {
    let has_offset = text.ends_with(['Z', 'z'])
        || text
            .get(text.len().saturating_sub(6)..)
            .is_some_and(|tail| {
                tail.starts_with(['+', '-']) && tail.as_bytes().get(3) == Some(&b':')
            });
    if text.is_empty() {
        "is empty"
    } else if !has_offset {
        "has no UTC offset, so it could be any of 24 hours; end it with your offset (+08:00) or Z for UTC"
    } else if !text.contains(['T', 't']) {
        "needs a T between the date and the time"
    } else {
        "is not a date and time (year-month-day T hours:minutes:seconds, then the offset)"
    }
}

/// The store's time zone (`[source].timezone`): the export's times without an offset are read
/// in it, and its calendar decides what "the same day" is.
#[derive(Debug, Clone, Copy)]
pub struct StoreZone(Tz);

impl StoreZone {
    /// The zone the seller named.
    #[must_use]
    pub fn new(zone: Tz) -> StoreZone {
        StoreZone(zone)
    }

    /// The store's calendar day of an instant: an order placed at 23:30 in Shanghai is on
    /// that Shanghai day, whatever its offset in the export and whatever UTC's date.
    #[must_use]
    pub fn day<Z: TimeZone>(self, at: &DateTime<Z>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// [`StoreZone::day`] of a time ingest made: ingest reads every export time into the
    /// store's zone, so its own date is the store's day and no conversion is needed (this runs
    /// for every order).
    #[must_use]
    pub fn day_of(self, at: &StoreTime) -> NaiveDate {
        debug_assert_eq!(at.date_naive(), self.day(at));
        at.date_naive()
    }
}

/// The real time, for what the ledger records as "when it was attempted" (beside the evaluated
/// instant) and for the `Date:` of a message.
#[must_use]
#[allow(clippy::disallowed_methods)]
pub fn wall_clock() -> DateTime<Utc> {
    Utc::now()
}
