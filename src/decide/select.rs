//! The first pass's rules: who is left alone, and why, from the export alone (and the paid
//! orders the ledger remembers from earlier exports). One function per playbook rule, each
//! returning `Some(reason)` when the rule keeps an order quiet; they run in the order of the
//! table in [`crate::decide`](mod@crate::decide), and the first that applies is the reason reported.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::StoreZone;
use crate::config::Settings;
use crate::ledger::{Memory, RememberedPaid};
use crate::order::{BuyerType, InvalidRow, Order, StatusClass, Text};
use crate::report::Reason;
use crate::units::{Phrases, is_normal_label, normalize_label};

/// What select says about one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Left alone.
    Skip(Reason),
    /// Still in the running; the planner picks the message.
    Candidate {
        /// The buyer's type.
        buyer_type: BuyerType,
        /// The order auto-closes within the closing window.
        closing_soon: bool,
    },
}

/// What select keeps of one order until the whole export has been read: the rules that need
/// only the order already applied, and what the per-buyer rules need. 32 bytes, however big
/// the order: a million orders fit in a few dozen MiB.
#[derive(Debug, Clone, Copy)]
struct Brief {
    created_at: DateTime<Utc>,
    /// The store-calendar day it was placed on.
    day: NaiveDate,
    buyer: u32,
    prior_paid: Option<u32>,
    /// The first of the early rules (paid ... already shipped) that applies, else of the late
    /// ones (in the future ... no contact): those need only the order.
    own: Option<Reason>,
    /// `own` is an early rule's, reported before the per-buyer rules.
    early: bool,
    closing_soon: bool,
}

impl Brief {
    /// The reason of an early rule, if one applies.
    fn early_reason(&self) -> Option<Reason> {
        self.own.filter(|_| self.early)
    }

    /// The reason of a late rule, if one applies and no early one does.
    fn late_reason(&self) -> Option<Reason> {
        self.own.filter(|_| !self.early)
    }
}

/// The first pass over an export: sees every order and bad row once, keeps what the per-buyer
/// rules need (32 bytes per order, buyers as numbers), then judges every order.
pub struct Survey<'a> {
    settings: &'a Settings,
    now: DateTime<Utc>,
    /// Whose calendar "the same day" is.
    zone: StoreZone,
    /// The ledger's paid orders from earlier exports, each numbered, and found by (buyer,
    /// order number).
    remembered: Vec<(&'a str, DateTime<Utc>)>,
    remembered_index: FxHashMap<(&'a str, &'a str), usize>,
    /// Buyer identities, numbered in order of appearance. Most ids are kept inside the table
    /// (`Text`), so finding one is one cache miss, not two: this runs for every order.
    buyers: FxHashMap<Text, u32>,
    briefs: Vec<Brief>,
    /// Buyers of rows that could not be read.
    unreadable: FxHashSet<u32>,
    /// The remembered orders (by number) that the export has too, whatever their status now:
    /// the export's state wins (an order remembered paid may have been cancelled since).
    remembered_here: FxHashSet<usize>,
    /// The export's paid orders that show the buyer's own decision to pay (not a
    /// subscription's renewal, not a zero-amount order the shop made), each with when the
    /// buyer decided (paid, else placed) and the store day it was placed: for `paid_same_day`
    /// and `paid_later`. 20 bytes per paid order.
    decisions: Vec<(u32, DateTime<Utc>, NaiveDate)>,
    /// The ledger's suppression list, when it has any address.
    suppressed: Option<&'a Memory>,
    /// Buyers one of whose orders carries an address on the suppression list.
    unsubscribed: FxHashSet<u32>,
}

impl<'a> Survey<'a> {
    /// An empty survey; `remembered` is the ledger's paid orders from earlier exports.
    #[must_use]
    pub fn new(
        settings: &'a Settings,
        now: DateTime<Utc>,
        remembered: &'a RememberedPaid,
    ) -> Survey<'a> {
        let mut list = Vec::new();
        let mut index = FxHashMap::default();
        for (buyer, orders) in remembered {
            for (order_id, at) in orders {
                index.insert((buyer.as_str(), order_id.as_str()), list.len());
                list.push((buyer.as_str(), *at));
            }
        }
        Survey {
            settings,
            now,
            zone: StoreZone::new(settings.timezone),
            remembered: list,
            remembered_index: index,
            buyers: FxHashMap::default(),
            briefs: Vec::new(),
            unreadable: FxHashSet::default(),
            remembered_here: FxHashSet::default(),
            decisions: Vec::new(),
            suppressed: None,
            unsubscribed: FxHashSet::default(),
        }
    }

    /// Leaves alone the buyers on `memory`'s suppression list (`unsubscribed`).
    #[must_use]
    pub fn suppressing(mut self, memory: &'a Memory) -> Survey<'a> {
        self.suppressed = Some(memory).filter(|m| m.suppresses_anyone());
        self
    }

    fn buyer(&mut self, buyer: &str) -> u32 {
        if let Some(&n) = self.buyers.get(buyer) {
            return n;
        }
        let n = u32::try_from(self.buyers.len()).expect("fewer than 4 billion buyers");
        self.buyers.insert(Text::from(buyer), n);
        n
    }

    /// Notes an order (in file order) and applies the rules that need only the order.
    pub fn order(&mut self, order: &Order) {
        let (settings, now) = (self.settings, self.now);
        let buyer = self.buyer(&order.buyer);
        if !self.remembered_index.is_empty() {
            let key = (order.buyer.as_str(), order.id.as_str());
            if let Some(&i) = self.remembered_index.get(&key) {
                self.remembered_here.insert(i);
            }
        }
        if let Some(memory) = self.suppressed
            && unsubscribed(order, memory)
        {
            self.unsubscribed.insert(buyer);
        }
        let day = self.zone.day_of(&order.created_at);
        if order.status == StatusClass::Paid && is_buyers_decision(order) {
            let placed = order.created_at.with_timezone(&Utc);
            let decided = order
                .paid_at
                .map_or(placed, |p| placed.max(p.with_timezone(&Utc)));
            self.decisions.push((buyer, decided, day));
        }
        let closing_soon = closes_soon(order, settings, now);
        let early = paid(order)
            .or_else(|| closed(order, now))
            .or_else(|| distribution_channel(order, settings))
            .or_else(|| subscription_renewal(order, settings))
            .or_else(|| payment_terms(order))
            .or_else(|| pay_later(order, settings))
            .or_else(|| already_shipped(order));
        // An early reason is reported before any late one: the late rules (the address check
        // above all) are not worth running then.
        let late = early.is_none().then(|| {
            in_future(order, now)
                .or_else(|| too_old(order, settings, now))
                .or_else(|| too_recent(order, settings, now, closing_soon))
                .or_else(|| no_contact(order))
        });
        self.briefs.push(Brief {
            created_at: order.created_at.with_timezone(&Utc),
            day,
            buyer,
            prior_paid: order.prior_paid_orders,
            own: early.or(late.flatten()),
            early: early.is_some(),
            closing_soon,
        });
    }

    /// Notes a row that could not be read: its buyer's other orders stay quiet.
    pub fn invalid(&mut self, row: &InvalidRow) {
        if !row.buyer.is_empty() {
            let buyer = self.buyer(&row.buyer);
            self.unreadable.insert(buyer);
        }
    }

    /// The ledger's paid orders of this export's buyers, by buyer number, without those the
    /// export has too (counted once): (buyer, placed at, store day).
    fn remembered_paid(&self) -> Vec<(u32, DateTime<Utc>, NaiveDate)> {
        let mut paid = Vec::new();
        for (i, (buyer, at)) in self.remembered.iter().enumerate() {
            if self.remembered_here.contains(&i) {
                continue;
            }
            if let Some(&n) = self.buyers.get(*buyer) {
                paid.push((n, *at, self.zone.day(at)));
            }
        }
        paid
    }

    /// How many orders were seen.
    #[must_use]
    pub fn orders(&self) -> usize {
        self.briefs.len()
    }

    /// Judges every order, in the order they were seen.
    #[must_use]
    pub fn verdicts(self) -> Vec<Verdict> {
        // Buyers are numbered 0..n: per-buyer state is a plain array from here on, and the
        // names are needed only to find the remembered paid orders of this export's buyers.
        let remembered = self.remembered_paid();
        let buyers = self.buyers.len();
        drop((self.buyers, self.remembered_index, self.remembered));
        let paid_briefs = self
            .briefs
            .iter()
            .filter(|b| b.early_reason() == Some(Reason::Paid))
            .map(|b| (b.buyer, b.created_at, b.day));
        // Every paid order counts for the buyer's type; only the buyer's own decisions to pay
        // keep their other orders quiet.
        let history = PaidHistory::new(&paid_briefs.chain(remembered.iter().copied()), buyers);
        let decided = PaidHistory::new(&self.decisions.iter().chain(&remembered).copied(), buyers);
        drop((remembered, self.decisions));
        let briefs = &self.briefs;
        let early: Vec<Option<Reason>> = briefs
            .iter()
            .map(|b| {
                b.early_reason()
                    .or_else(|| paid_same_day(b, &decided))
                    .or_else(|| paid_later(b, &decided))
                    .or_else(|| buyer_has_invalid_row(b, &self.unreadable))
            })
            .collect();

        // The buyer's latest order that is still theirs to pay (`NONE`: none): in the running
        // after the rules above, or one they pay on delivery, by terms or after shipping.
        let mut latest: Vec<u32> = vec![NONE; buyers];
        for (i, brief) in briefs.iter().enumerate() {
            if early[i].is_none_or(still_to_pay) {
                let best = &mut latest[brief.buyer as usize];
                if *best == NONE || is_later((brief, i), (&briefs[*best as usize], *best as usize))
                {
                    *best = u32::try_from(i).expect("fewer than 4 billion orders");
                }
            }
        }

        briefs
            .iter()
            .zip(early)
            .enumerate()
            .map(|(i, (brief, early))| {
                let reason = early
                    .or_else(|| superseded(brief, i, &latest))
                    .or(brief.late_reason())
                    .or_else(|| buyer_unsubscribed(brief, &self.unsubscribed));
                match reason {
                    Some(reason) => Verdict::Skip(reason),
                    None => Verdict::Candidate {
                        buyer_type: history.buyer_type(brief),
                        closing_soon: brief.closing_soon,
                    },
                }
            })
            .collect()
    }
}

fn paid(order: &Order) -> Option<Reason> {
    (order.status == StatusClass::Paid).then_some(Reason::Paid)
}

fn closed(order: &Order, now: DateTime<Utc>) -> Option<Reason> {
    let timed_out = order.close_at.is_some_and(|close| close <= now);
    (order.status == StatusClass::Closed || timed_out).then_some(Reason::Closed)
}

fn distribution_channel(order: &Order, settings: &Settings) -> Option<Reason> {
    let channels = &settings.select.distribution_channels;
    if channels.is_empty() {
        return None;
    }
    // The channel as written is usually already in normal form: no allocation then.
    let channel = &order.channel;
    let listed = if is_normal_label(channel) {
        channels.iter().any(|c| c == channel)
    } else {
        channels.contains(&normalize_label(channel))
    };
    listed.then_some(Reason::DistributionChannel)
}

/// Whether a paid order shows the buyer deciding to pay: not a subscription's renewal (the
/// app charges it) and not a zero-amount order (an exchange or replacement the shop made).
fn is_buyers_decision(order: &Order) -> bool {
    !is_renewal(order) && order.total.as_ref().is_none_or(|t| !t.amount.is_zero())
}

/// A buyer orders once by cash on delivery, payment terms or a parcel sent ahead, then pays
/// it: the order is as much their latest decision as one in the running.
fn still_to_pay(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::PayLater | Reason::PaymentTerms | Reason::AlreadyShipped
    )
}

/// The Shopify source of a subscription app's renewal orders.
const RENEWAL_SOURCE: &str = "subscription_contract";

/// Whether the order is a subscription's renewal: Shopify's renewal source, or the tag
/// subscription apps put on renewal orders.
#[must_use]
pub fn is_renewal(order: &Order) -> bool {
    static TAG: LazyLock<Phrases> =
        LazyLock::new(|| Phrases::new(&["subscription recurring order"]));
    order.channel.trim().eq_ignore_ascii_case(RENEWAL_SOURCE) || TAG.find(&order.tags).is_some()
}

fn subscription_renewal(order: &Order, settings: &Settings) -> Option<Reason> {
    if !is_renewal(order) {
        return None;
    }
    // A `[[rules]]` entry for the order's source sends it a message of its own.
    let channel = normalize_label(&order.channel);
    let own_rule = settings.rules.iter().any(|rule| {
        rule.source
            .as_ref()
            .is_some_and(|sources| sources.contains(&channel))
    });
    (!own_rule).then_some(Reason::SubscriptionRenewal)
}

fn pay_later(order: &Order, settings: &Settings) -> Option<Reason> {
    settings
        .select
        .pay_later_methods
        .find(&order.payment_method)
        .map(|_| Reason::PayLater)
}

fn payment_terms(order: &Order) -> Option<Reason> {
    (!order.payment_terms.trim().is_empty()).then_some(Reason::PaymentTerms)
}

fn already_shipped(order: &Order) -> Option<Reason> {
    (order.tracked || is_shipped(&order.fulfillment)).then_some(Reason::AlreadyShipped)
}

/// Whether a fulfilment word says the order has shipped (or part of it): `fulfilled`,
/// `partial`, `shipped`, `dispatched`, `in transit`, `delivered`, `yes`, and their spellings
/// in the markets payremind reads, found word by word without case. A "not shipped" phrase
/// (`unfulfilled`, `not shipped`, `awaiting`, `no`) wins; any other value (`restocked`,
/// `on_hold`, `scheduled`) or an empty cell: not shipped.
#[must_use]
pub fn is_shipped(fulfillment: &str) -> bool {
    static SHIPPED: LazyLock<Phrases> = LazyLock::new(|| Phrases::new(SHIPPED_WORDS));
    static NOT_SHIPPED: LazyLock<Phrases> = LazyLock::new(|| Phrases::new(NOT_SHIPPED_WORDS));
    !fulfillment.trim().is_empty()
        && NOT_SHIPPED.find(fulfillment).is_none()
        && SHIPPED.find(fulfillment).is_some()
}

/// Words of a fulfilment column that say the parcel (or part of it) has left.
const SHIPPED_WORDS: &[&str] = &[
    "fulfilled",
    "partial",
    "shipped",
    "dispatched",
    "in transit",
    "sent",
    "out for delivery",
    "delivered",
    "yes",
    "y",
    "true",
    "1",
    "已发货",
    "部分发货",
    "已签收",
    "运输中",
    "отправлен",
    "отправлено",
    "доставлен",
    "доставлено",
    "versandt",
    "versendet",
    "verschickt",
    "enviado",
    "entregue",
    "expédié",
    "livré",
    "spedito",
    "consegnato",
];

/// Words of a fulfilment column that say it has not left yet; they win over the shipped
/// words (`not shipped`, `unfulfilled`).
const NOT_SHIPPED_WORDS: &[&str] = &[
    "unfulfilled",
    "not fulfilled",
    "not shipped",
    "unshipped",
    "not sent",
    "awaiting",
    "pending",
    "restocked",
    "no",
    "n",
    "false",
    "0",
    "none",
    "null",
    "未发货",
    "待发货",
    "не отправлен",
    "nicht versandt",
    "no enviado",
    "não enviado",
];

fn paid_same_day(brief: &Brief, history: &PaidHistory) -> Option<Reason> {
    history
        .paid_on(brief.buyer, brief.day)
        .then_some(Reason::PaidSameDay)
}

fn paid_later(brief: &Brief, history: &PaidHistory) -> Option<Reason> {
    history
        .paid_after(brief.buyer, brief.created_at)
        .then_some(Reason::PaidLater)
}

fn buyer_has_invalid_row(brief: &Brief, unreadable: &FxHashSet<u32>) -> Option<Reason> {
    unreadable
        .contains(&brief.buyer)
        .then_some(Reason::BuyerHasInvalidRow)
}

/// Later = placed later; for the same instant, the order further down the export.
fn is_later(a: (&Brief, usize), b: (&Brief, usize)) -> bool {
    (a.0.created_at, a.1) > (b.0.created_at, b.1)
}

/// No order: the buyer has none still in the running.
const NONE: u32 = u32::MAX;

fn superseded(brief: &Brief, index: usize, latest: &[u32]) -> Option<Reason> {
    (latest[brief.buyer as usize] as usize != index).then_some(Reason::Superseded)
}

/// Placed after `now`: the computer's clock, `--now` or `[source] timezone` is wrong. Never
/// reminded (its age means nothing).
fn in_future(order: &Order, now: DateTime<Utc>) -> Option<Reason> {
    (order.created_at > now).then_some(Reason::InFuture)
}

fn too_old(order: &Order, settings: &Settings, now: DateTime<Utc>) -> Option<Reason> {
    (order.age(now) > settings.select.max_age).then_some(Reason::TooOld)
}

fn too_recent(
    order: &Order,
    settings: &Settings,
    now: DateTime<Utc>,
    closing_soon: bool,
) -> Option<Reason> {
    (order.age(now) < settings.select.min_age && !closing_soon).then_some(Reason::TooRecent)
}

/// The order auto-closes in the future, within `[select].closing_window`.
fn closes_soon(order: &Order, settings: &Settings, now: DateTime<Utc>) -> bool {
    order.close_at.is_some_and(|close| {
        let left = close.signed_duration_since(now);
        left > chrono::TimeDelta::zero() && left <= settings.select.closing_window
    })
}

fn no_contact(order: &Order) -> Option<Reason> {
    email_address(&order.email)
        .is_none()
        .then_some(Reason::NoContact)
}

/// Whether the buyer of this order asked for no more reminders: its address is on the
/// suppression list, or earlier runs reminded the buyer at an address that is.
fn unsubscribed(order: &Order, memory: &Memory) -> bool {
    memory.suppressed_buyer(&order.buyer)
        || crate::address::key(&order.email).is_ok_and(|key| memory.suppressed(&key))
}

/// The buyer asked for no more reminders (one of their orders carries an address on the
/// suppression list): no order of theirs is reminded, whatever address it has.
fn buyer_unsubscribed(brief: &Brief, unsubscribed: &FxHashSet<u32>) -> Option<Reason> {
    unsubscribed
        .contains(&brief.buyer)
        .then_some(Reason::Unsubscribed)
}

/// The address a reminder may go to: one every transport takes, not masked (`j***@mail.com`
/// would reach nobody, or somebody else); [`crate::address::recipient`] is the one judge, and
/// says why when there is none.
#[must_use]
pub fn email_address(contact: &str) -> Option<lettre::Address> {
    crate::address::recipient(contact).ok()
}

/// Each buyer's paid orders, from the export and remembered from earlier ones: to count the
/// ones placed before an order, and to know the store days a buyer paid on. Stored flat, by
/// buyer number (one slice of times and one of days per buyer, both sorted): a few bytes per
/// paid order, no map.
struct PaidHistory {
    /// Buyer `b`'s paid orders are at `start[b]..start[b + 1]`.
    start: Vec<usize>,
    times: Vec<DateTime<Utc>>,
    days: Vec<NaiveDate>,
}

impl PaidHistory {
    /// From `paid` orders (buyer, time, store day), for `buyers` buyers. Built in place
    /// (count, then fill, then sort each buyer's slices): no list of all paid orders is made
    /// on the way.
    fn new(
        paid: &(impl Iterator<Item = (u32, DateTime<Utc>, NaiveDate)> + Clone),
        buyers: usize,
    ) -> Self {
        let paid = || paid.clone();
        let mut start = vec![0; buyers + 1];
        for (buyer, _, _) in paid() {
            start[buyer as usize + 1] += 1;
        }
        for b in 1..start.len() {
            start[b] += start[b - 1];
        }
        let total = start[buyers];
        let mut times = vec![DateTime::<Utc>::MIN_UTC; total];
        let mut days = vec![NaiveDate::MIN; total];
        let mut next = start.clone();
        for (buyer, at, day) in paid() {
            let at_slot = &mut next[buyer as usize];
            times[*at_slot] = at;
            days[*at_slot] = day;
            *at_slot += 1;
        }
        drop(next);
        for b in 0..buyers {
            times[start[b]..start[b + 1]].sort_unstable();
            days[start[b]..start[b + 1]].sort_unstable();
        }
        PaidHistory { start, times, days }
    }

    fn range(&self, buyer: u32) -> std::ops::Range<usize> {
        let b = buyer as usize;
        self.start[b]..self.start[b + 1]
    }

    /// Whether the buyer paid an order placed on `day`.
    fn paid_on(&self, buyer: u32, day: NaiveDate) -> bool {
        self.days[self.range(buyer)].binary_search(&day).is_ok()
    }

    /// Whether the buyer decided to pay (paid, or placed a paid order) after `at`.
    fn paid_after(&self, buyer: u32, at: DateTime<Utc>) -> bool {
        self.times[self.range(buyer)]
            .last()
            .is_some_and(|t| *t > at)
    }

    /// From the export's own count when it has one, else the paid orders placed before.
    fn buyer_type(&self, brief: &Brief) -> BuyerType {
        let prior = brief.prior_paid.unwrap_or_else(|| {
            let before =
                self.times[self.range(brief.buyer)].partition_point(|t| *t < brief.created_at);
            u32::try_from(before).unwrap_or(u32::MAX)
        });
        BuyerType::from_prior_paid(prior)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fulfilment_words_say_shipped_or_not_as_a_seller_reads_them() {
        for shipped in [
            "fulfilled",
            "Partial",
            "partially_fulfilled",
            "Shipped",
            "Dispatched",
            "In transit",
            "Out for delivery",
            "Yes",
            "Y",
            "true",
            "1",
            "已发货",
            "Отправлено",
            "Versandt",
            "entregue",
        ] {
            assert!(is_shipped(shipped), "{shipped}");
        }
        for not_shipped in [
            "",
            "unfulfilled",
            "restocked",
            "on_hold",
            "scheduled",
            "Not shipped (0 of 2)",
            "Awaiting 2 items",
            "No",
            "false",
            "0",
            "1970-01-01 08:00:00",
            "Ship by 2026-11-25",
            "未发货",
        ] {
            assert!(!is_shipped(not_shipped), "{not_shipped}");
        }
    }

    #[test]
    fn a_brief_stays_32_bytes_so_a_million_orders_fit_in_a_few_dozen_mib() {
        assert_eq!(std::mem::size_of::<Brief>(), 32);
    }
}
