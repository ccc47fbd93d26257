//! What the reminders earned: the recovery report. Beside the pipeline, it reads what sending
//! runs recorded (the orders reminded or held out for the control group) and what later exports
//! say about them, and measures paid rates, recovered amounts and the lift over the control
//! group.
//!
//! - [`record_send`]: a sending run records its exposures (each reminder and each hold-out,
//!   with the step and the buyer's type) and folds its export into the observations.
//! - [`observe`]: one export's view of every order reminded or held out so far (also what
//!   `payremind report --orders FILE` records).
//! - [`measure`]: the numbers, per step, buyer type, language, payment method and in total.
//! - [`interval`]: Wilson's interval for a rate, Newcombe's for the difference of two.
//! - [`render`]: the report as text, JSON, CSV; [`html`]: as one self-contained page.
//!
//! **A complete export.** An order missing from an export is settled as not paid only when
//! the export is complete for it: the export holds both paid and unpaid orders (an export of
//! unpaid orders only, or of paid orders only, is a filtered view) and its oldest order was
//! placed no later than the missing one and its newest no earlier (its dates cover it on both
//! sides: an export of last week's orders says nothing of this week's). Otherwise the order's
//! outcome stays unknown.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::error::Error;
use crate::ingest::{self, Detail, Item, Source};
use crate::ledger::{Arm, ExportView, Exposure, Ledger, Seen};
use crate::order::{Order, StatusClass};
use crate::report::{Decision, Entry, Reason};

pub mod html;
pub mod interval;
pub mod measure;
pub mod render;

/// A sending run's share of the report, before its first message: the reminders it is about
/// to send and the orders it holds out are recorded as exposures at `now`, then the export is
/// read for every order reminded or held out so far, these included.
///
/// # Errors
/// The export cannot be read again, or the ledger cannot be written.
pub fn record_send(
    ledger: &mut Ledger,
    settings: &Settings,
    source: &Source,
    now: DateTime<Utc>,
    reminders: &[Entry<'_>],
    held_out: &[Entry<'_>],
) -> Result<(), Error> {
    let exposure = |entry: &Entry<'_>, arm: Arm| {
        Some(Exposure {
            order_id: entry.order_id.to_string(),
            template: entry.template.clone()?,
            arm,
            buyer_id: entry.buyer_id.to_string(),
            buyer_type: entry
                .buyer_type
                .map_or_else(|| "unknown".to_owned(), |t| t.as_str().to_owned()),
            at: now,
        })
    };
    if settings.experiment.is_on() {
        let drawn = format!(
            "control {}, salt {:?}",
            settings.experiment.share(),
            settings.experiment.salt
        );
        if let Some(before) = ledger.swap_experiment(&drawn)? {
            eprintln!(
                "payremind: warning: [experiment] changed since the last sending run with a control group ({before}; now {drawn}): buyers moved between the groups (a salt defaults to the shop's name, so renaming the shop moves them too); the report leaves any order ever reminded out of the control group; to measure the new group alone, use `payremind report --since` from today"
            );
        }
    }
    let exposures: Vec<Exposure> = reminders
        .iter()
        .filter(|e| e.decision == Decision::Remind)
        .filter_map(|e| exposure(e, Arm::Reminded))
        .chain(
            held_out
                .iter()
                .filter(|e| e.reason == Some(Reason::ControlGroup))
                .filter_map(|e| exposure(e, Arm::Control)),
        )
        .collect();
    if !exposures.is_empty() {
        ledger.record_exposures(&exposures)?;
    }
    // The exposures just recorded among them.
    let exposed = ledger.exposed_orders()?;
    if exposed.is_empty() {
        return Ok(());
    }
    observe(ledger, settings, source, now, &exposed).map(|_| ())
}

/// Reads the export for the orders in `exposed` and folds what it says into the ledger's
/// observations at `now`. Returns how many of them it holds and how many it settled as gone.
///
/// # Errors
/// The export cannot be read, or the ledger cannot be written.
pub fn observe(
    ledger: &mut Ledger,
    settings: &Settings,
    source: &Source,
    now: DateTime<Utc>,
    exposed: &HashSet<String>,
) -> Result<(usize, u64), Error> {
    let start = || {
        Ok(ExportView {
            at: now,
            seen: Vec::new(),
            complete_since: None,
            complete_until: None,
        })
    };
    let (mut any_paid, mut any_unpaid) = (false, false);
    let mut oldest: Option<DateTime<Utc>> = None;
    let mut newest: Option<DateTime<Utc>> = None;
    // The orders reminded or held out, kept until the layout (which may imply the buyers'
    // language) is known at the end of the read.
    let mut exposed_orders: Vec<Order> = Vec::new();
    let (mut view, info) = ingest::visit(source, settings, Detail::Decisions, start, |_, item| {
        if let Item::Order(order) = item {
            let created = order.created_at.with_timezone(&Utc);
            oldest = Some(oldest.map_or(created, |o| o.min(created)));
            newest = Some(newest.map_or(created, |n| n.max(created)));
            any_paid |= order.status == StatusClass::Paid;
            any_unpaid |= order.status == StatusClass::Unpaid;
            if exposed.contains(order.id.as_str()) {
                exposed_orders.push(order.clone());
            }
        }
        Ok(())
    })?;
    // Each order's language as the decisions choose it: the same chooser, the same layout.
    let layout = crate::config::Languages::of_layout(info.mapping.as_ref().map(|m| m.layout));
    let mut chooser = crate::render::language::Chooser::new(&settings.languages, layout);
    for order in &exposed_orders {
        view.seen.push(Seen::new(order, chooser.choose(order)));
    }
    // A view of one status only is filtered: it says nothing of the orders it leaves out.
    if any_paid && any_unpaid {
        view.complete_since = oldest;
        view.complete_until = newest;
    }
    let gone = ledger.observe(&view, exposed)?;
    Ok((view.seen.len(), gone))
}
