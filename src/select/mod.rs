//! Second stage: who is left alone, and why. One function per playbook rule, each returning
//! `Some(reason)` when the rule keeps an order quiet; they run in the documented order and the
//! first that applies is the reason reported.
//!
//! | # | reason | rule |
//! | --- | --- | --- |
//! | 2 | `paid` | the status means paid |
//! | 3 | `closed` | the status means closed, or `close_at` has passed |
//! | 4 | `distribution_channel` | the channel is in `[select].distribution_channels` |
//! | 5 | `paid_same_day` | another order of the buyer, placed the same store day, is paid |
//! | 5b | `buyer_has_invalid_row` | another row of the buyer could not be read: it may be a paid or a later order |
//! | 6 | `superseded` | the buyer has a later order still in the running: only the latest is reminded |
//! | 7 | `too_old` | older than `[select].max_age` |
//! | 8 | `too_recent` | younger than `[select].min_age` (unless it closes within `closing_window`) |
//! | 9 | `no_contact` | no usable e-mail address |
//!
//! (1, `invalid_row`, is ingest's; 10, a skip from the plan, is the planner's.)

use std::collections::HashSet;

use rustc_hash::{FxHashMap, FxHashSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::config::{Settings, normalize_label};
use crate::ledger::RememberedPaid;
use crate::order::{BuyerType, Order, StatusClass};

/// Why select keeps an order quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The order is paid.
    Paid,
    /// The order is closed or past its close time.
    Closed,
    /// A distribution channel: settles late, may well be paid.
    DistributionChannel,
    /// The buyer paid another order the same day.
    PaidSameDay,
    /// Another row of the buyer could not be read; it may be paid or later.
    BuyerHasInvalidRow,
    /// A later order of the buyer is the one reminded.
    Superseded,
    /// Too old to be worth a reminder.
    TooOld,
    /// Too early for a reminder.
    TooRecent,
    /// No address a reminder could go to.
    NoContact,
}

impl SkipReason {
    /// The reason's name in reports and JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Paid => "paid",
            SkipReason::Closed => "closed",
            SkipReason::DistributionChannel => "distribution_channel",
            SkipReason::PaidSameDay => "paid_same_day",
            SkipReason::BuyerHasInvalidRow => "buyer_has_invalid_row",
            SkipReason::Superseded => "superseded",
            SkipReason::TooOld => "too_old",
            SkipReason::TooRecent => "too_recent",
            SkipReason::NoContact => "no_contact",
        }
    }
}

/// What select says about one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Left alone.
    Skip(SkipReason),
    /// Still in the running; the planner picks the message.
    Candidate {
        /// The buyer's type.
        buyer_type: BuyerType,
        /// The order auto-closes within the closing window.
        closing_soon: bool,
    },
}

/// What is known besides the export's orders.
#[derive(Debug, Default)]
pub struct Known<'a> {
    /// Buyers of rows ingest could not read.
    pub unreadable: HashSet<&'a str>,
    /// Paid orders remembered from earlier exports, per buyer: (order id, placed at).
    pub remembered_paid: Option<&'a RememberedPaid>,
}

/// Judges every order, in the same order as `orders`.
#[must_use]
pub fn select(
    orders: &[Order],
    known: &Known<'_>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Vec<Verdict> {
    let history = PaidHistory::new(orders, known.remembered_paid, settings.timezone);
    let paid_days = &history.days;
    let unreadable = &known.unreadable;

    let early: Vec<Option<SkipReason>> = orders
        .iter()
        .map(|o| {
            paid(o)
                .or_else(|| closed(o, now))
                .or_else(|| distribution_channel(o, settings))
                .or_else(|| paid_same_day(o, paid_days))
                .or_else(|| buyer_has_invalid_row(o, unreadable))
        })
        .collect();

    // The buyer's latest order still in the running after rules 2-5.
    let mut latest: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, order) in orders.iter().enumerate() {
        if early[i].is_none() {
            latest
                .entry(order.buyer.as_str())
                .and_modify(|best| {
                    if is_later(order, &orders[*best]) {
                        *best = i;
                    }
                })
                .or_insert(i);
        }
    }

    orders
        .iter()
        .zip(early)
        .enumerate()
        .map(|(i, (order, early))| {
            let closing_soon = closes_soon(order, settings, now);
            let reason = early
                .or_else(|| superseded(order, i, &latest))
                .or_else(|| too_old(order, settings, now))
                .or_else(|| too_recent(order, settings, now, closing_soon))
                .or_else(|| no_contact(order));
            match reason {
                Some(reason) => Verdict::Skip(reason),
                None => Verdict::Candidate {
                    buyer_type: history.buyer_type(order),
                    closing_soon,
                },
            }
        })
        .collect()
}

fn paid(order: &Order) -> Option<SkipReason> {
    (order.status == StatusClass::Paid).then_some(SkipReason::Paid)
}

fn closed(order: &Order, now: DateTime<Utc>) -> Option<SkipReason> {
    let timed_out = order.close_at.is_some_and(|close| close <= now);
    (order.status == StatusClass::Closed || timed_out).then_some(SkipReason::Closed)
}

fn distribution_channel(order: &Order, settings: &Settings) -> Option<SkipReason> {
    let channels = &settings.select.distribution_channels;
    (!channels.is_empty() && channels.contains(&normalize_label(&order.channel)))
        .then_some(SkipReason::DistributionChannel)
}

fn paid_same_day(order: &Order, paid_days: &FxHashSet<(&str, NaiveDate)>) -> Option<SkipReason> {
    paid_days
        .contains(&(order.buyer.as_str(), order.store_day()))
        .then_some(SkipReason::PaidSameDay)
}

fn buyer_has_invalid_row(order: &Order, unreadable: &HashSet<&str>) -> Option<SkipReason> {
    unreadable
        .contains(order.buyer.as_str())
        .then_some(SkipReason::BuyerHasInvalidRow)
}

/// Later = placed later; for the same minute, the row further down the export.
fn is_later(a: &Order, b: &Order) -> bool {
    (a.created_at, a.line) > (b.created_at, b.line)
}

fn superseded(order: &Order, index: usize, latest: &FxHashMap<&str, usize>) -> Option<SkipReason> {
    (latest.get(order.buyer.as_str()) != Some(&index)).then_some(SkipReason::Superseded)
}

fn too_old(order: &Order, settings: &Settings, now: DateTime<Utc>) -> Option<SkipReason> {
    (order.age(now) > settings.select.max_age).then_some(SkipReason::TooOld)
}

fn too_recent(
    order: &Order,
    settings: &Settings,
    now: DateTime<Utc>,
    closing_soon: bool,
) -> Option<SkipReason> {
    (order.age(now) < settings.select.min_age && !closing_soon).then_some(SkipReason::TooRecent)
}

/// The order auto-closes in the future, within `[select].closing_window`.
fn closes_soon(order: &Order, settings: &Settings, now: DateTime<Utc>) -> bool {
    order.close_at.is_some_and(|close| {
        let left = close.signed_duration_since(now);
        left > chrono::TimeDelta::zero() && left <= settings.select.closing_window
    })
}

fn no_contact(order: &Order) -> Option<SkipReason> {
    email_address(&order.email)
        .is_none()
        .then_some(SkipReason::NoContact)
}

/// The address a reminder may go to: a syntactically valid e-mail address that is not masked
/// (`j***@mail.com` would reach nobody, or somebody else).
#[must_use]
pub fn email_address(contact: &str) -> Option<lettre::Address> {
    let contact = contact.trim();
    if contact.contains('*') {
        return None;
    }
    lettre::Address::from_str(contact).ok()
}

/// Each buyer's paid orders, from the export and remembered from earlier ones, by time: to
/// count the ones placed before an order, and to know the store days a buyer paid on.
struct PaidHistory<'a> {
    times: FxHashMap<&'a str, Vec<DateTime<Utc>>>,
    days: FxHashSet<(&'a str, NaiveDate)>,
}

impl<'a> PaidHistory<'a> {
    fn new(
        orders: &'a [Order],
        remembered: Option<&'a RememberedPaid>,
        zone: chrono_tz::Tz,
    ) -> Self {
        let mut seen: FxHashSet<(&str, &str)> = FxHashSet::default();
        let mut times: FxHashMap<&str, Vec<DateTime<Utc>>> = FxHashMap::default();
        let mut days = FxHashSet::default();
        let mut add = |buyer: &'a str, order_id: &'a str, at: DateTime<Utc>| {
            if seen.insert((buyer, order_id)) {
                days.insert((buyer, at.with_timezone(&zone).date_naive()));
                times.entry(buyer).or_default().push(at);
            }
        };
        for order in orders.iter().filter(|o| o.status == StatusClass::Paid) {
            add(
                &order.buyer,
                &order.id,
                order.created_at.with_timezone(&Utc),
            );
        }
        for (buyer, list) in remembered.into_iter().flatten() {
            for (order_id, at) in list {
                add(buyer, order_id, *at);
            }
        }
        for list in times.values_mut() {
            list.sort_unstable();
        }
        PaidHistory { times, days }
    }

    /// From the export's own count when it has one, else the paid orders placed before.
    fn buyer_type(&self, order: &Order) -> BuyerType {
        let prior = order.prior_paid_orders.unwrap_or_else(|| {
            self.times.get(order.buyer.as_str()).map_or(0, |times| {
                u32::try_from(times.partition_point(|t| *t < order.created_at)).unwrap_or(u32::MAX)
            })
        });
        BuyerType::from_prior_paid(prior)
    }
}
