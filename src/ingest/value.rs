//! Cell values as sellers' exports write them: Excel's protective wrappers, money with symbols
//! and separators, timestamps with or without an offset. Each parser returns a one-line reason a
//! seller can act on when the value cannot be read.

use std::borrow::Cow;
use std::str::FromStr;

use std::sync::OnceLock;

use chrono::format::{self, Item, Parsed, StrftimeItems};
use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::cell::RefCell;

use crate::order::StoreTime;

/// Whether a cell says "nothing" in the words exports and databases use for it (`null`, `N/A`,
/// `-`, `0`, `no`, a zero date): a column whose mere presence decides (a cancellation time,
/// payment terms, a tracking number) must not read these as a value.
#[must_use]
pub fn is_nothing(cell: &str) -> bool {
    const NOTHING: &[&str] = &[
        "null",
        "none",
        "nil",
        "n/a",
        "na",
        "-",
        "--",
        "0",
        "no",
        "false",
        "undefined",
        "0000-00-00",
        "0000-00-00 00:00",
        "0000-00-00 00:00:00",
        "无",
        "否",
        "暂无",
    ];
    let cell = cell.trim();
    NOTHING.iter().any(|n| cell.eq_ignore_ascii_case(n))
}

/// `str::trim`, but the usual cell, which starts and ends with a visible ASCII character and so
/// has nothing to trim, is returned without walking it: this runs for every cell of every row.
#[must_use]
pub fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// The text inside Excel's protective wrappers: `="1930…"` (keeps long numbers as text) and a
/// leading apostrophe (`'90503`), trimmed.
#[must_use]
pub fn unwrap_excel(raw: &str) -> &str {
    let text = trim(raw);
    if let Some(inner) = text.strip_prefix("=\"").and_then(|t| t.strip_suffix('"')) {
        return trim(inner);
    }
    text.strip_prefix('\'').map_or(text, trim)
}

/// Whether an id looks like Excel already turned it into a number (`6.94178E+12`): the digits
/// are gone and cannot be recovered.
#[must_use]
pub fn is_excel_mangled_number(text: &str) -> bool {
    // Called for two cells of every row: no allocation, and most ids have no `+` at all.
    if !text.contains('+') {
        return false;
    }
    let split = text
        .find("E+")
        .or_else(|| text.find("e+"))
        .map(|at| (&text[..at], &text[at + 2..]));
    match split {
        Some((mantissa, exponent)) => {
            !mantissa.is_empty()
                && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
                && !exponent.is_empty()
                && exponent.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Timestamp layouts with an explicit offset; the offset wins over the store zone.
/// (`%#z` also takes `Z` and `+08`.)
const WITH_OFFSET: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f %#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M %#z",
    "%Y-%m-%dT%H:%M%#z",
    "%Y/%m/%d %H:%M:%S %#z",
];

/// Naive layouts, read in the store zone: ISO with space or `T`, with or without seconds, and
/// Excel's re-save `2016/5/23 22:02`.
const NAIVE: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
];

/// What a time that cannot be read is told.
const NOT_A_TIME: &str = "is not a valid date and time; expected one like 2026-11-21 19:00:00 or 2026-11-21T19:00:00+08:00";

/// Which of day and month comes first in a date written with the year last, as Excel re-saves
/// dates in the seller's locale (`31/12/2023 22:36`, `12/31/2023 10:36 PM`): `[source]
/// date_order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `31/12/2023`.
    DayFirst,
    /// `12/31/2023`.
    MonthFirst,
    /// Only dates with the year first (`2023-12-31`, `2023/12/31`): a date with the year last
    /// is an error.
    YearFirst,
}

impl DateOrder {
    /// The name used in `[source] date_order`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DateOrder::DayFirst => "dmy",
            DateOrder::MonthFirst => "mdy",
            DateOrder::YearFirst => "ymd",
        }
    }

    /// How a seller says it: "day first".
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            DateOrder::DayFirst => "day first",
            DateOrder::MonthFirst => "month first",
            DateOrder::YearFirst => "year first",
        }
    }
}

/// Parses an export timestamp into the store's zone. A date with the year last
/// (`31/12/2023`) is not read: which of day and month comes first is the export's to say
/// ([`parse_time_ordered`]).
///
/// # Errors
/// Not a date and time in a known layout, an impossible date (November 31, hour 25), or a local
/// time that does not exist in the zone (skipped by a daylight-saving change).
pub fn parse_time(text: &str, zone: Tz) -> Result<StoreTime, String> {
    parse_time_ordered(text, zone, || Err(NOT_A_TIME.to_owned()))
}

/// [`parse_time`], reading a date written with the year last in the order `year_last` gives,
/// or failing with its message. `year_last` is asked only for such a date, so that deciding
/// the order (which may read the whole export) costs nothing to exports that have none.
///
/// # Errors
/// As [`parse_time`], and what `year_last` says.
pub fn parse_time_ordered(
    text: &str,
    zone: Tz,
    year_last: impl FnOnce() -> Result<DateOrder, String>,
) -> Result<StoreTime, String> {
    let text = trim(text);
    // This runs for every timestamp of a million-row export: the most common layout is read
    // directly; other layouts are compiled once, and the likelier kind (an offset after the
    // date part, or none) is tried first.
    if let Some(local) = iso_digits(text) {
        return in_zone(local, zone);
    }
    if let Some(time) = iso_with_offset(text) {
        return Ok(time.with_timezone(&zone).fixed_offset());
    }
    let read = if let Some(date) = YearLast::split(text) {
        date.read(year_last()?, zone)
    } else if let Some(text) = twenty_four_hour(text) {
        parse_time(&text, zone)
    } else {
        any_layout(text, zone)
    };
    read.and_then(four_digit_year)
}

/// chrono reads `%Y` from one to four digits, so `31/12/26` would be the year 26: a two-digit
/// year is refused (its century is a guess), never read as antiquity.
fn four_digit_year(time: StoreTime) -> Result<StoreTime, String> {
    use chrono::Datelike as _;
    if time.year() < 1900 {
        return Err(format!(
            "has a two-digit year (it would be the year {}); download the export again, or format the column in Excel as yyyy-mm-dd hh:mm",
            time.year()
        ));
    }
    Ok(time)
}

/// A date written with the year last, `31/12/2023 22:36`: its numbers as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearLast<'t> {
    /// The first number (the day, or the month).
    pub first: u32,
    /// The second number.
    pub second: u32,
    /// The year.
    pub year: i32,
    /// The date as written, without the time.
    pub date: &'t str,
    /// What follows the date: the time.
    rest: &'t str,
}

impl<'t> YearLast<'t> {
    /// The date, when `text` starts with one or two digits, a separator (`/`, `.` or `-`), one
    /// or two digits, the same separator and a four-digit year; `None` for anything else (ISO
    /// `2023-12-31` has its year first).
    #[must_use]
    pub fn split(text: &'t str) -> Option<YearLast<'t>> {
        let b = text.as_bytes();
        let run = |from: usize| {
            b[from.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count()
        };
        let first = run(0);
        let separator = *b.get(first)?;
        if !(1..=2).contains(&first) || !matches!(separator, b'/' | b'.' | b'-') {
            return None;
        }
        let second = run(first + 1);
        let at_year = first + 1 + second + 1;
        if !(1..=2).contains(&second)
            || b.get(first + 1 + second) != Some(&separator)
            || run(at_year) != 4
        {
            return None;
        }
        let end = at_year + 4;
        Some(YearLast {
            first: digits(&b[..first])?,
            second: digits(&b[first + 1..first + 1 + second])?,
            year: i32::try_from(digits(&b[at_year..end])?).ok()?,
            date: text.get(..end)?,
            rest: text.get(end..)?,
        })
    }

    /// The time, with day and month in `order`.
    fn read(self, order: DateOrder, zone: Tz) -> Result<StoreTime, String> {
        let (day, month) = match order {
            DateOrder::DayFirst => (self.first, self.second),
            DateOrder::MonthFirst => (self.second, self.first),
            DateOrder::YearFirst => {
                return Err("has the year last, but [source].date_order = \"ymd\" says dates are written year first; set it to \"dmy\" (31/12/2023), \"mdy\" (12/31/2023) or \"auto\"".into());
            }
        };
        let Some(date) = NaiveDate::from_ymd_opt(self.year, month, day) else {
            return Err(format!(
                "is not a date read {} ({}); check [source].date_order",
                order.describe(),
                if order == DateOrder::DayFirst {
                    "31/12/2023"
                } else {
                    "12/31/2023"
                }
            ));
        };
        let time = trim(self.rest.strip_prefix('T').unwrap_or(self.rest));
        if time.is_empty() || !self.rest.starts_with([' ', 'T', '\u{a0}']) {
            return Err(NOT_A_TIME.to_owned());
        }
        let time = twenty_four_hour(time).unwrap_or_else(|| time.to_owned());
        parse_time(&format!("{} {time}", date.format("%Y-%m-%d")), zone)
    }
}

/// A time of day written with AM or PM (`10:36 PM`, `12:05:00 a.m.`), at the end of `text`,
/// rewritten on the 24-hour clock; `None` when `text` has none, or its hour is not 1 to 12.
fn twenty_four_hour(text: &str) -> Option<String> {
    if !text.ends_with(['M', 'm', '.']) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let (before, pm) = [("am", false), ("a.m.", false), ("pm", true), ("p.m.", true)]
        .iter()
        .find_map(|(mark, pm)| lower.strip_suffix(mark).map(|before| (before, *pm)))?;
    let before = text.get(..before.len())?.trim_end();
    // The time is the last word: `h:mm` or `h:mm:ss`.
    let start = before
        .rfind(|c: char| c.is_whitespace() || c == 'T')
        .map_or(0, |at| at + 1);
    let (date, time) = before.split_at(start);
    let (hour, minutes) = time.split_once(':')?;
    let hour: u32 = hour.parse().ok().filter(|h| (1..=12).contains(h))?;
    if minutes.is_empty()
        || !minutes
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
    {
        return None;
    }
    let hour = match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, false) => h,
        (h, true) => h + 12,
    };
    Some(format!("{date}{hour:02}:{minutes}"))
}

/// [`parse_time`] by the general layouts only.
fn any_layout(text: &str, zone: Tz) -> Result<StoreTime, String> {
    let offset_likely =
        text.ends_with(['Z', 'z']) || text.bytes().skip(10).any(|b| matches!(b, b'+' | b'-'));
    let tries: [Layouts; 2] = if offset_likely {
        [with_offset, naive]
    } else {
        [naive, with_offset]
    };
    tries
        .iter()
        .find_map(|try_| try_(text, zone))
        .unwrap_or_else(|| Err(NOT_A_TIME.into()))
}

/// A kind of layout: `None` when `text` is not of that kind.
type Layouts = fn(&str, Tz) -> Option<Result<StoreTime, String>>;

/// The time, when `text` has an explicit offset.
fn with_offset(text: &str, zone: Tz) -> Option<Result<StoreTime, String>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(Ok(t.with_timezone(&zone).fixed_offset()));
    }
    compiled(WITH_OFFSET, &WITH_OFFSET_ITEMS)
        .iter()
        .find_map(|items| {
            let mut parsed = Parsed::new();
            format::parse(&mut parsed, text, items.iter()).ok()?;
            parsed
                .to_datetime()
                .ok()
                .map(|t| Ok(t.with_timezone(&zone).fixed_offset()))
        })
}

/// The time, when `text` is a naive local time of the store.
fn naive(text: &str, zone: Tz) -> Option<Result<StoreTime, String>> {
    let local = compiled(NAIVE, &NAIVE_ITEMS).iter().find_map(|items| {
        let mut parsed = Parsed::new();
        format::parse(&mut parsed, text, items.iter()).ok()?;
        parsed.to_naive_datetime_with_offset(0).ok()
    })?;
    Some(in_zone(local, zone))
}

/// Local times recently placed in a zone, in slots by minute: finding the zone's offset at a
/// local time searches through the zone's changes, and an export's orders, listed by time as
/// platforms write them, crowd into the same minutes. Keyed by the whole local time and the
/// zone, so a hit is exactly what the zone would say.
struct Recent([Option<(Tz, NaiveDateTime, Option<FixedOffset>)>; 1024]);

thread_local! {
    static RECENT: RefCell<Recent> = const { RefCell::new(Recent([None; 1024])) };
}

/// A local time of the store's zone as a store time.
fn in_zone(local: NaiveDateTime, zone: Tz) -> Result<StoreTime, String> {
    let minute = local.and_utc().timestamp().div_euclid(60);
    let slot = usize::try_from(minute.rem_euclid(1024)).unwrap_or_default();
    let known = RECENT.with_borrow(|recent| match recent.0[slot] {
        Some((z, l, offset)) if z == zone && l == local => Some(offset),
        _ => None,
    });
    let offset = known.unwrap_or_else(|| {
        let offset = match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.offset().fix()),
            // The hour after a daylight-saving change happens twice: take the first.
            LocalResult::Ambiguous(first, _) => Some(first.offset().fix()),
            LocalResult::None => None,
        };
        RECENT.with_borrow_mut(|recent| recent.0[slot] = Some((zone, local, offset)));
        offset
    });
    match offset.and_then(|offset| offset.from_local_datetime(&local).single()) {
        Some(time) => Ok(time),
        None => Err(format!(
            "does not exist in {zone} (the clocks skipped it); check the export's time zone"
        )),
    }
}

/// The most common layout, `2026-11-21 19:00:00` (or with `T`, or without seconds), read
/// without chrono's general format parser, which costs a tenth of a million-row run. Anything
/// else, including what this would reject, goes to the full layouts.
fn iso_digits(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if !(b.len() == 16 || (b.len() == 19 && b[16] == b':')) {
        return None;
    }
    let separators = b[4] == b'-' && b[7] == b'-' && matches!(b[10], b' ' | b'T') && b[13] == b':';
    let number = |range: std::ops::Range<usize>| digits(&b[range]);
    if !separators {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0..4)?).ok()?,
        number(5..7)?,
        number(8..10)?,
    )?;
    let seconds = if b.len() == 19 { number(17..19)? } else { 0 };
    let time = NaiveTime::from_hms_opt(number(11..13)?, number(14..16)?, seconds)?;
    Some(date.and_time(time))
}

/// The number written by ASCII `digits`; `None` if any is not a digit.
fn digits(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// [`iso_digits`] followed by an offset, `+0800` or `+08:00`, with or without a space before
/// it: Shopify's `2026-11-21 19:00:00 +0800` and most layouts with an offset, read without
/// chrono's general parser. Anything else goes to the full layouts.
fn iso_with_offset(text: &str) -> Option<DateTime<FixedOffset>> {
    let b = text.as_bytes();
    let cut = if b.len() > 19 && b[16] == b':' {
        19
    } else {
        16
    };
    let local = iso_digits(text.get(..cut)?)?;
    let rest = text.get(cut..)?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (sign, offset) = match rest.as_bytes() {
        [b'+', offset @ ..] => (1, offset),
        [b'-', offset @ ..] => (-1, offset),
        _ => return None,
    };
    let (hours, minutes) = match offset {
        [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    let (hours, minutes) = (i32::try_from(hours).ok()?, i32::try_from(minutes).ok()?);
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?
        .from_local_datetime(&local)
        .single()
}

static WITH_OFFSET_ITEMS: OnceLock<Vec<Vec<Item<'static>>>> = OnceLock::new();
static NAIVE_ITEMS: OnceLock<Vec<Vec<Item<'static>>>> = OnceLock::new();

/// The layouts, parsed into chrono's items once.
fn compiled(
    layouts: &'static [&'static str],
    cell: &'static OnceLock<Vec<Vec<Item<'static>>>>,
) -> &'static [Vec<Item<'static>>] {
    cell.get_or_init(|| {
        layouts
            .iter()
            .filter_map(|layout| StrftimeItems::new(layout).parse().ok())
            .collect()
    })
}

/// Parses a money amount exactly: `128.00`, `128.00元`, `¥1,280.50`, `$ 12`, `1.280,50 €`,
/// `49,90` (decimal comma).
///
/// # Errors
/// Anything that is not one number once symbols and separators are removed.
pub fn parse_money(text: &str) -> Result<Decimal, String> {
    let bad = || "is not an amount; expected a number like 128.00 or 49,90".to_owned();
    // Nearly every export writes `128.00`: digits and at most one dot need no cleaning (the
    // general path below would leave them exactly as they are), so no copy is made.
    let plain = trim(text);
    let bytes = plain.as_bytes();
    if !bytes.is_empty()
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        && bytes.iter().filter(|b| **b == b'.').count() <= 1
    {
        return Decimal::from_str(plain).map_err(|_| bad());
    }
    parse_decorated_money(text)
}

/// [`parse_money`] for any text: symbols, codes, separators.
fn parse_decorated_money(text: &str) -> Result<Decimal, String> {
    let bad = || "is not an amount; expected a number like 128.00 or 49,90".to_owned();
    if is_excel_mangled_number(text.trim()) {
        return Err("was turned into a number like 1.2E+3 by Excel; download the export again and do not open and save it in Excel".into());
    }
    // Symbols and an ISO code around the number; spaces and apostrophes inside it group
    // thousands. Nothing else may be left: "abc12" is not 12.
    let stripped: String = strip_currency(text)
        .trim_start_matches('+')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'')
        .collect();
    if stripped.is_empty()
        || !stripped
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-'))
    {
        return Err(bad());
    }
    let normalized = normalize_separators(&stripped);
    Decimal::from_str(&normalized).map_err(|_| bad())
}

/// The text without the currency symbols and a three-letter ISO code around the number.
fn strip_currency(text: &str) -> &str {
    let decoration =
        |c: char| c.is_whitespace() || matches!(c, '元' | '¥' | '￥' | '$' | '€' | '£');
    let mut rest = text.trim_matches(decoration);
    let code = |t: &str| t.len() == 3 && t.chars().all(|c| c.is_ascii_uppercase());
    if rest.is_char_boundary(3) && rest.len() > 3 && code(&rest[..3]) {
        rest = &rest[3..];
    }
    let cut = rest.len().saturating_sub(3);
    if rest.is_char_boundary(cut) && rest.len() > 3 && code(&rest[cut..]) {
        rest = &rest[..cut];
    }
    rest.trim_matches(decoration)
}

/// Decides which of `.` and `,` is the decimal separator and removes the thousands one.
fn normalize_separators(text: &str) -> Cow<'_, str> {
    let last_dot = text.rfind('.');
    let last_comma = text.rfind(',');
    match (last_dot, last_comma) {
        (Some(dot), Some(comma)) if comma > dot => {
            Cow::Owned(text.replace('.', "").replace(',', "."))
        }
        (Some(_), Some(_)) => Cow::Owned(text.replace(',', "")),
        (None, Some(comma)) => {
            let decimals = text.len() - comma - 1;
            if text.matches(',').count() == 1 && decimals != 3 {
                Cow::Owned(text.replace(',', "."))
            } else {
                Cow::Owned(text.replace(',', ""))
            }
        }
        (Some(_), None) if text.matches('.').count() > 1 => Cow::Owned(text.replace('.', "")),
        _ => Cow::Borrowed(text),
    }
}

/// Parses a count of earlier orders: a whole number, `3.0` accepted (spreadsheets write that).
///
/// # Errors
/// Anything that is not a non-negative whole number.
pub fn parse_count(text: &str) -> Result<u32, String> {
    let text = trim(text);
    let whole = text.strip_suffix(".0").unwrap_or(text);
    whole
        .parse::<u32>()
        .map_err(|_| "is not a whole number of orders".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    fn at(text: &str) -> String {
        parse_time(text, SHANGHAI).map_or_else(|e| format!("error: {e}"), |t| t.to_rfc3339())
    }

    #[test]
    fn timestamps_in_every_export_form() {
        assert_eq!(at("2026-11-21 19:00:00"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-11-21T19:00:00"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-11-22 08:15"), "2026-11-22T08:15:00+08:00");
        assert_eq!(at("2016/5/23 22:02"), "2016-05-23T22:02:00+08:00");
        assert_eq!(at("2026-11-21T19:00:00+08:00"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-11-21T11:00:00Z"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-11-22T10:00Z"), "2026-11-22T18:00:00+08:00");
        assert_eq!(
            at("2026-11-21 19:00:00 +08:00"),
            "2026-11-21T19:00:00+08:00"
        );
        assert_eq!(at("2026-05-12 12:54:07 -0700"), "2026-05-13T03:54:07+08:00");
        assert_eq!(at("2026-11-21 19:00:00+0800"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-11-21T19:00+08:00"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-11-21 11:00:00Z"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-11-21 19:00:00 +08"), "2026-11-21T19:00:00+08:00");
        assert_eq!(at("2026-1-5 9:05"), "2026-01-05T09:05:00+08:00");
        assert_eq!(at("2026-11-21 19:00:00.5"), "2026-11-21T19:00:00.500+08:00");
        assert_eq!(at("2026-01-05T09:05:00z"), "2026-01-05T17:05:00+08:00");
        assert_eq!(
            at("2026-1-15\u{a0}9:05 +08:00"),
            "2026-01-15T09:05:00+08:00"
        );
        assert_eq!(
            at("2026-05-12 12:54:07.250 -0700"),
            "2026-05-13T03:54:07.250+08:00"
        );
    }

    fn ordered(text: &str, order: DateOrder) -> String {
        parse_time_ordered(text, SHANGHAI, || Ok(order))
            .map_or_else(|e| format!("error: {e}"), |t| t.to_rfc3339())
    }

    #[test]
    fn dates_with_the_year_last_are_read_in_the_order_given() {
        use DateOrder::{DayFirst, MonthFirst, YearFirst};
        assert_eq!(
            ordered("31/12/2023 22:36", DayFirst),
            "2023-12-31T22:36:00+08:00"
        );
        assert_eq!(
            ordered("12/31/2023 10:36 PM", MonthFirst),
            "2023-12-31T22:36:00+08:00"
        );
        assert_eq!(
            ordered("1/2/2023 9:05", DayFirst),
            "2023-02-01T09:05:00+08:00"
        );
        assert_eq!(
            ordered("1/2/2023 9:05", MonthFirst),
            "2023-01-02T09:05:00+08:00"
        );
        assert_eq!(
            ordered("31.12.2023 22:36:10", DayFirst),
            "2023-12-31T22:36:10+08:00"
        );
        assert_eq!(
            ordered("12/31/2023 12:05 AM", MonthFirst),
            "2023-12-31T00:05:00+08:00"
        );
        assert_eq!(
            ordered("12/31/2023 12:05:09 p.m.", MonthFirst),
            "2023-12-31T12:05:09+08:00"
        );
        assert_eq!(
            ordered("12/31/2023 1:05am", MonthFirst),
            "2023-12-31T01:05:00+08:00"
        );
        assert_eq!(
            ordered("31/12/2023 22:36 +0100", DayFirst),
            "2024-01-01T05:36:00+08:00"
        );
        assert!(ordered("12/31/2023 10:36 PM", DayFirst).contains("not a date read day first"));
        assert!(ordered("31/12/2023 22:36", YearFirst).contains("date_order = \"ymd\""));
        assert!(ordered("31/12/2023", DayFirst).starts_with("error"));
        assert!(ordered("12/31/2023 13:05 PM", MonthFirst).starts_with("error"));
        // The order is asked only for a date with the year last; ISO never is.
        for iso in [
            "2023-12-31 22:36",
            "2023/12/31 22:36",
            "2016/5/23 22:02",
            "2023-12-31T22:36:00Z",
        ] {
            assert!(parse_time_ordered(iso, SHANGHAI, || panic!("asked for {iso}")).is_ok());
        }
        assert_eq!(at("2023-12-31 10:36 PM"), "2023-12-31T22:36:00+08:00");
        // Without an order, a date with the year last is not read.
        assert!(at("31/12/2023 22:36").starts_with("error"));
        assert_eq!(YearLast::split("2023-12-31"), None);
        assert_eq!(YearLast::split("123/1/2023"), None);
        assert_eq!(YearLast::split("12/1-2023"), None);
        assert_eq!(YearLast::split("12/1/20234"), None);
        assert_eq!(
            YearLast::split("5/13/2023 1:00").map(|d| (d.first, d.second, d.date)),
            Some((5, 13, "5/13/2023"))
        );
    }

    #[test]
    fn impossible_dates_are_errors() {
        for bad in [
            "2026-11-31 10:00",
            "2026-13-01 10:00",
            "2026-11-21 25:00",
            "yesterday",
            "",
        ] {
            assert!(at(bad).starts_with("error"), "{bad} parsed");
        }
        let gap = parse_time("2026-03-08 02:30", chrono_tz::America::New_York).unwrap_err();
        assert!(gap.contains("does not exist"), "{gap}");
    }

    #[test]
    fn offsets_read_directly_read_as_the_general_layouts_read_them() {
        let mut read = 0;
        for date in ["2026-11-21", "2026-02-29", "2026-12-31"] {
            for separator in [" ", "T"] {
                for time in ["19:00:00", "00:05", "23:59:59", "24:00", "19:60"] {
                    for space in ["", " ", "  "] {
                        for offset in [
                            "+0800", "+08:00", "-0530", "-05:30", "+0000", "+2359", "+2400", "+08",
                            "+8:00", "+08:0", "Z", "+08:00x", "",
                        ] {
                            let text = format!("{date}{separator}{time}{space}{offset}");
                            if let Some(direct) = iso_with_offset(&text) {
                                read += 1;
                                assert_eq!(
                                    any_layout(&text, SHANGHAI),
                                    Ok(direct.with_timezone(&SHANGHAI).fixed_offset()),
                                    "{text}"
                                );
                            }
                            assert_eq!(
                                parse_time(&text, SHANGHAI),
                                any_layout(trim(&text), SHANGHAI),
                                "{text}"
                            );
                        }
                    }
                }
            }
        }
        assert!(read > 40, "only {read} read directly");
    }

    #[test]
    fn a_local_time_seen_before_reads_as_its_own_zone_says() {
        let new_york = chrono_tz::America::New_York;
        // Twice each, alternating zones and layouts: what is remembered never leaks across.
        for _ in 0..2 {
            for (text, zone) in [
                ("2026-03-08 02:30", new_york),
                ("2026-03-08 02:30", SHANGHAI),
                ("2026-03-08 02:30:00", new_york),
                ("2026-11-01 01:30", new_york),
                ("2026-11-01 01:30", SHANGHAI),
            ] {
                let expected = match zone.from_local_datetime(&iso_digits(text).unwrap()) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.fixed_offset()),
                    LocalResult::None => None,
                };
                assert_eq!(parse_time(text, zone).ok(), expected, "{text} in {zone}");
            }
        }
        // The hour that happens twice is read as its first time (daylight time, -04:00).
        assert_eq!(
            parse_time("2026-11-01 01:30", new_york)
                .unwrap()
                .to_rfc3339(),
            "2026-11-01T01:30:00-04:00"
        );
    }

    #[test]
    fn the_quick_trim_trims_as_str_trim_does() {
        for text in [
            "",
            " ",
            "a",
            "ab",
            " a",
            "a ",
            "\ta\r\n",
            "\u{3000}a",
            "a\u{a0}",
            "é",
            " é ",
            "a b",
            "\u{85}x",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn plain_amounts_read_as_the_general_path_reads_them() {
        for text in [
            "0",
            "128.00",
            "007.50",
            "1.",
            ".5",
            ".",
            "12",
            " 49.90 ",
            "1.2.3",
            "123456789012345678901234567890",
            "79228162514264337593543950336",
        ] {
            assert_eq!(parse_money(text), parse_decorated_money(text), "{text:?}");
        }
    }

    #[test]
    fn money_is_exact_whatever_the_decoration() {
        let m = |t: &str| parse_money(t).map(|d| d.to_string());
        assert_eq!(m("128.00").unwrap(), "128.00");
        assert_eq!(m("128.00元").unwrap(), "128.00");
        assert_eq!(m("¥1,280.50").unwrap(), "1280.50");
        assert_eq!(m("$ 12").unwrap(), "12");
        assert_eq!(m("49,90").unwrap(), "49.90");
        assert_eq!(m("1.280,50 €").unwrap(), "1280.50");
        assert_eq!(m("1,280").unwrap(), "1280");
        assert_eq!(m("USD 19.99").unwrap(), "19.99");
        assert_eq!(m("19.99 EUR").unwrap(), "19.99");
        assert!(m("free").is_err());
        assert!(m("12.3.4,5,6").is_err());
        assert!(m("abc12").is_err());
        assert!(m("12abc").is_err());
        assert!(m("1e5").is_err());
        assert!(m("6.94178E+12").unwrap_err().contains("Excel"));
    }

    #[test]
    fn excel_wrappers_are_removed_and_mangled_ids_recognised() {
        assert_eq!(
            unwrap_excel("=\"4378120007170436307\""),
            "4378120007170436307"
        );
        assert_eq!(unwrap_excel(" '13812340001"), "13812340001");
        assert_eq!(unwrap_excel("#1001"), "#1001");
        assert!(is_excel_mangled_number("6.94178E+12"));
        assert!(is_excel_mangled_number("1.93068e+15"));
        assert!(!is_excel_mangled_number("#E+1001"));
        assert!(!is_excel_mangled_number("4378120007170436307"));
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("3"), Ok(3));
        assert_eq!(parse_count("3.0"), Ok(3));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("many").is_err());
    }
}
