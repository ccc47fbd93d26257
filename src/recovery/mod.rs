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
//! the export is complete for it: the export holds paid orders (an export of unpaid orders
//! only is a filtered view) and its oldest order was placed no later than the missing one (its
//! dates cover it). Otherwise the order's outcome stays unknown.

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

/// The language a buyer is written to in: one place, so that a language column (issue 16)
/// plugs in here. Today every message is written in English.
#[must_use]
pub fn language_of(_order: &Order, _settings: &Settings) -> String {
    "en".to_owned()
}

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
    let mut exposed = ledger.exposed_orders()?;
    exposed.extend(exposures.into_iter().map(|e| e.order_id));
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
        })
    };
    let mut any_paid = false;
    let mut oldest: Option<DateTime<Utc>> = None;
    let (mut view, _) = ingest::visit(source, settings, Detail::Decisions, start, |view, item| {
        if let Item::Order(order) = item {
            let created = order.created_at.with_timezone(&Utc);
            oldest = Some(oldest.map_or(created, |o| o.min(created)));
            any_paid |= order.status == StatusClass::Paid;
            if exposed.contains(order.id.as_str()) {
                view.seen
                    .push(Seen::new(order, &language_of(order, settings)));
            }
        }
        Ok(())
    })?;
    view.complete_since = oldest.filter(|_| any_paid);
    let gone = ledger.observe(&view, exposed)?;
    Ok((view.seen.len(), gone))
}
