//! The second pass's last rules before `--limit`: a reminder that is due goes out at the
//! right hour, in the window before one of the shop's dispatch cutoffs (domestic buyers) and
//! never in the buyer's night. Both are off unless `[select] send_before_dispatch` or
//! `quiet_hours` is set; a held order is reported with the instant it becomes due, and an
//! hourly run sends it then (the ledger keeps it exactly-once).
//!
//! They run last because they say only "not now": an order that gets nothing anyway (already
//! reminded, capped) is reported for that, with no due time that would never come.

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::Settings;
use crate::order::Order;
use crate::report::Reason;

/// Why a due reminder waits, and until when (`None`: no instant in the next fortnight lets
/// it through, say quiet hours that cover every window).
pub type Hold = (Reason, Option<DateTime<Utc>>);

/// Where the buyer's clock is and whether the shop's windows apply to them.
#[derive(Debug, Clone, Copy)]
pub struct Buyer {
    /// The buyer's zone: from the country, else the shop's.
    pub zone: Tz,
    /// On the shop's clock: in the shop's own country (or of unknown country) and in a zone
    /// with the shop's UTC offset at the time. Only these buyers are held by dispatch windows:
    /// a shop's 10:00 window is 07:00 for a Californian buyer of a New York shop, inside the
    /// quiet hours every morning, so such a buyer is held by quiet hours alone.
    pub domestic: bool,
}

impl Buyer {
    /// The buyer of `order`: the zone column when the export has one, else the region (a
    /// state of a country with several zones), else the country's most populous zone, else
    /// the shop's (see [`crate::zones`]).
    #[must_use]
    pub fn of(order: &Order, settings: &Settings, now: DateTime<Utc>) -> Buyer {
        let code = crate::zones::country_code(&order.country);
        let zone = crate::zones::parse_zone(&order.buyer_zone)
            .or_else(|| code.and_then(|c| crate::zones::region_zone(c, &order.region)))
            .or_else(|| code.and_then(crate::zones::zone_of))
            .unwrap_or(settings.timezone);
        // A country cell payremind cannot place is abroad, not at home: never held by the
        // shop's windows.
        let unplaced = code.is_none() && !order.country.trim().is_empty();
        let offset = |z: Tz| chrono::Offset::fix(now.with_timezone(&z).offset());
        Buyer {
            zone,
            domestic: (code.is_none() || code == settings.shop.country)
                && !unplaced
                && offset(zone) == offset(settings.timezone),
        }
    }
}

/// `outside_send_window` or `quiet_hours` with when the reminder becomes due, or `None`: it
/// may go now. An order closing within the closing window is never held by a dispatch window,
/// and quiet hours yield to it when it would close before they end.
#[must_use]
pub fn hold(
    order: &Order,
    settings: &Settings,
    now: DateTime<Utc>,
    closing_soon: bool,
) -> Option<Hold> {
    let select = &settings.select;
    if select.send_before_dispatch.is_none() && select.quiet_hours.is_none() {
        return None;
    }
    let buyer = Buyer::of(order, settings, now);
    let window = select
        .send_before_dispatch
        .filter(|_| buyer.domestic && !closing_soon);
    let quiet = select.quiet_hours.filter(|&(_, end)| {
        let closes_first = order
            .close_at
            .is_some_and(|close| close <= quiet_end(now, buyer.zone, end));
        !(closing_soon && closes_first)
    });
    let dispatch = &settings.shop.dispatch;
    let reason = if window.is_some_and(|w| !dispatch.in_window(now, w)) {
        Reason::OutsideSendWindow
    } else if quiet.is_some_and(|(start, end)| is_quiet(now, buyer.zone, start, end)) {
        Reason::QuietHours
    } else {
        return None;
    };
    // The first instant both let through: each step moves on to where one of them opens.
    let mut at = now;
    let mut due = None;
    for _ in 0..64 {
        if let Some(w) = window
            && !dispatch.in_window(at, w)
        {
            match dispatch.next_window(at, w) {
                Some(next) => at = next,
                None => break,
            }
        } else if let Some((start, end)) = quiet
            && is_quiet(at, buyer.zone, start, end)
        {
            at = quiet_end(at, buyer.zone, end);
        } else {
            due = Some(at);
            break;
        }
    }
    Some((reason, due.filter(|d| *d - now <= TimeDelta::days(14))))
}

/// When an unpaid order's reminder would first go out from `from` on (`now`, or when it
/// reaches `min_age`), as far as the order alone says: `from` itself, or when its window and
/// the buyer's morning allow. `None`: it closes first, or nothing lets it through within a
/// fortnight. For `check`'s count of today's reminders by window; the ledger and the per-buyer
/// rules may still skip the order.
#[must_use]
pub fn first_due(order: &Order, settings: &Settings, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if order.close_at.is_some_and(|close| close <= from) {
        return None;
    }
    let closing_soon = order
        .close_at
        .is_some_and(|close| close.signed_duration_since(from) <= settings.select.closing_window);
    match hold(order, settings, from, closing_soon) {
        None => Some(from),
        Some((_, due)) => due,
    }
}

/// Whether `at` is within the quiet hours `start`-`end` in `zone`.
fn is_quiet(at: DateTime<Utc>, zone: Tz, start: NaiveTime, end: NaiveTime) -> bool {
    let local = at.with_timezone(&zone).time();
    if start < end {
        start <= local && local < end
    } else {
        local >= start || local < end
    }
}

/// The first `end` of the quiet hours after `at` (when they end, in the buyer's zone).
fn quiet_end(at: DateTime<Utc>, zone: Tz, end: NaiveTime) -> DateTime<Utc> {
    let today = at.with_timezone(&zone).date_naive();
    (0..3)
        .filter_map(|d| today.checked_add_signed(TimeDelta::days(d)))
        .filter_map(|day| {
            let local = zone.from_local_datetime(&day.and_time(end));
            local.earliest().or_else(|| local.latest())
        })
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t > at)
        .unwrap_or(at + TimeDelta::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        crate::clock::parse_instant(text).unwrap()
    }

    #[test]
    fn quiet_hours_across_midnight_end_at_the_next_morning_in_the_buyers_zone() {
        let (start, end) = (
            NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        );
        let ny = chrono_tz::America::New_York;
        // 23:00 in New York.
        let night = utc("2026-11-24T04:00:00Z");
        assert!(is_quiet(night, ny, start, end));
        assert_eq!(quiet_end(night, ny, end), utc("2026-11-24T13:00:00Z"));
        assert!(!is_quiet(utc("2026-11-24T13:00:00Z"), ny, start, end));
        assert!(is_quiet(utc("2026-11-24T12:59:00Z"), ny, start, end));
    }
}
