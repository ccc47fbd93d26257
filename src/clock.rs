//! The only place that reads the wall clock. Every stage receives `now` from here or from
//! `--now`, so a what-if run and the tests see exactly the same decisions (clippy.toml bans the
//! clock elsewhere).

use chrono::{DateTime, Utc};

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

/// Parses `--now`: RFC 3339, so the offset is never guessed.
///
/// # Errors
/// When the value is not RFC 3339.
pub fn parse_instant(value: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Now {
            value: value.to_owned(),
            message: e.to_string(),
        })
}

/// The real time, for what the ledger records as "when it was attempted" (beside the evaluated
/// instant) and for the `Date:` of a message.
#[must_use]
#[allow(clippy::disallowed_methods)]
pub fn wall_clock() -> DateTime<Utc> {
    Utc::now()
}
