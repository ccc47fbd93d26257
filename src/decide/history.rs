//! The second pass's ledger rules: what earlier runs sent decides whether this one may send
//! again. One function per rule, each returning `Some(reason)` when the rule keeps an order
//! quiet; [`crate::decide`](mod@crate::decide) runs them in the order of its table, the first three before the
//! ladder picks a step and the last two after (they need the step).
//!
//! They read only the ledger's [`Memory`] (loaded once before the pass), never the export's
//! other orders: that is the first pass's work.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::decide::ladder;
use crate::ledger::Memory;
use crate::order::Order;
use crate::report::Reason;

/// An earlier attempt ended maybe-sent (a connection lost after the data, a run killed while
/// sending): sending again could remind twice, so only `--retry-unknown` does.
pub fn outcome_unknown(memory: &Memory, order: &Order, retry_unknown: bool) -> Option<Reason> {
    (memory.outcome_unknown(&order.id) && !retry_unknown).then_some(Reason::OutcomeUnknown)
}

/// The address was refused for good before: writing to it again only hurts the sender's
/// reputation.
pub fn bounced(memory: &Memory, to: &str) -> Option<Reason> {
    memory.bounced(to).then_some(Reason::Bounced)
}

/// The ladder is over for the order: its final offer was sent, or `[select].max_reminders`
/// were sent or refused for their content.
pub fn gave_up(memory: &Memory, order: &Order, settings: &Settings) -> Option<Reason> {
    let (used, final_sent, _) = memory.sent(&order.id);
    (final_sent || used >= settings.select.max_reminders as usize).then_some(Reason::GaveUp)
}

/// Each step at most once per order, and never a step below one already sent. `retrying`
/// (`--retry-unknown` for a step that ended maybe-sent) sends that step once more.
pub fn already_reminded(
    memory: &Memory,
    order: &Order,
    template: &str,
    settings: &Settings,
    retrying: bool,
) -> Option<Reason> {
    if retrying {
        return None;
    }
    let (_, _, highest) = memory.sent(&order.id);
    let rank = ladder::rank(&settings.rules, template);
    (memory.sent_step(&order.id, template) || highest.is_some_and(|h| h > rank))
        .then_some(Reason::AlreadyReminded)
}

/// At least `[select].min_gap` between two reminders to the same buyer, whatever the order.
pub fn buyer_cap(
    memory: &Memory,
    order: &Order,
    settings: &Settings,
    now: DateTime<Utc>,
    retrying: bool,
) -> Option<Reason> {
    if retrying {
        return None;
    }
    memory
        .last_sent_to(&order.buyer)
        .is_some_and(|last| now.signed_duration_since(last) < settings.select.min_gap)
        .then_some(Reason::BuyerCap)
}
