//! Who gets a reminder, which one, and why everybody else does not: select, plan and render,
//! over an export read twice so that memory does not grow with it.
//!
//! Whether an order is reminded can depend on rows anywhere in the file (a paid order of the
//! same buyer further down, a later order, a bad row), so the decisions take two passes:
//!
//! 1. [`survey`] reads the export once, only what decisions rest on ([`Detail::Decisions`]),
//!    and keeps 32 bytes per order ([`Survey`]): every order's [`Verdict`] is known at the end.
//! 2. [`decide_each`] reads it again, in full, order by order, and hands on one [`Entry`] per
//!    order and per bad row, in file order: checked against the ledger, planned and rendered.
//!    A fingerprint of both readings makes an export replaced in between an error.
//!
//! Neither pass holds more than the orders being read (and, at the end of the first, the
//! verdicts): a million-row export is decided in bounded memory. Standard input and pipes are
//! read into memory first ([`Source::rereadable`]) since they cannot be read twice.
//!
//! # Every reason, in the order they are tried
//!
//! The first rule that applies is the reason reported; each is one function, one [`Reason`].
//!
//! | # | reason | pass | home | rule |
//! | --- | --- | --- | --- | --- |
//! | 1 | `invalid_row` | ingest | [`crate::ingest`] | the row cannot be read |
//! | 2 | `paid` | survey | [`select`] | the status means paid |
//! | 3 | `closed` | survey | [`select`] | the status means closed, `cancelled_at` is set, or `close_at` has passed |
//! | 4 | `distribution_channel` | survey | [`select`] | the channel is in `[select].distribution_channels` |
//! | 4a | `subscription_renewal` | survey | [`select`] | a subscription's renewal (Shopify source `subscription_contract` or tag `Subscription Recurring Order`), unless a `[[rules]]` entry names its `source` |
//! | 4b | `payment_terms` | survey | [`select`] | B2B payment terms are set (Shopify `Payment Terms Name` / `Next Payment Due At`) |
//! | 4c | `pay_later` | survey | [`select`] | the payment method is in `[select].pay_later_methods` (cash on delivery, pickup, cheque, invoice, manual) |
//! | 4d | `already_shipped` | survey | [`select`] | the fulfilment column says shipped (`fulfilled`, `partial`, a ship time, a tracking number) |
//! | 5 | `paid_same_day` | survey | [`select`] | another order of the buyer, placed the same store day, is paid |
//! | 5a | `paid_later` | survey | [`select`] | the buyer paid an order placed after this one (any day), or paid an older one after placing this one; a renewal or a zero-amount order is not the buyer's decision and counts for neither 5 nor 5a |
//! | 5b | `buyer_has_invalid_row` | survey | [`select`] | another row of the buyer could not be read: it may be a paid or a later order |
//! | 6 | `superseded` | survey | [`select`] | the buyer has a later order still in the running, or one paid on delivery, by terms or shipped: only the latest is reminded |
//! | 6a | `in_future` | survey | [`select`] | placed after `now`: the clock, `--now` or `[source].timezone` is wrong (a warning says so) |
//! | 7 | `too_old` | survey | [`select`] | older than `[select].max_age` |
//! | 8 | `too_recent` | survey | [`select`] | younger than `[select].min_age` (unless it closes within `closing_window`) |
//! | 9 | `no_contact` | survey | [`select`] | no usable e-mail address |
//! | 9a | `unsubscribed` | survey | [`select`] | the buyer asked for no more reminders: the order's address, or that of another order of the buyer (in the export, or reminded by an earlier run), is on the ledger's suppression list (`payremind suppress`) |
//! | 10 | `outcome_unknown` | decide | [`history`] | an earlier attempt may have arrived; only `--retry-unknown` sends again |
//! | 11 | `bounced` | decide | [`history`] | the address was refused for good before |
//! | 12 | `gave_up` | decide | [`history`] | the final offer or `max_reminders` were sent, or a message was refused for good |
//! | 13 | `no_rule`, `no_offer_for_returning`, `waiting_for_transfer`, a `[[rules]]` `skip` | decide | [`ladder`] | the ladder sends nothing |
//! | 14 | `already_reminded` | decide | [`history`] | this step, or a later one, was sent |
//! | 15 | `buyer_cap` | decide | [`history`] | the buyer was reminded less than `[select].min_gap` ago |
//! | 15a | `outside_send_window` | decide | [`timing`] | a domestic buyer (or one of unknown country), not closing soon, and `now` is not within `[select].send_before_dispatch` before a `[shop].dispatch_times` cutoff (`due_at`: when it is) |
//! | 15b | `quiet_hours` | decide | [`timing`] | `now` is within `[select].quiet_hours` in the buyer's zone (from the country, else the shop's), unless the order closes soon and before they end (`due_at`: when they end) |
//! | 16 | `over_limit` | decide | here | past `--limit` |
//! | – | (not a skip) | decide | [`consent`] | a step that makes an offer, to a buyer whose export says no (or nothing) to marketing: sent in the `plain` wording (`wording: "plain"`), unless `[select] offers_need_consent = false` |
//! | 16a | `control_group` | decide | [`experiment`] | the buyer is in `[experiment]`'s control group (a stable hash of the buyer and the salt): held out at the step it would have got (`template` says which), recorded by `--send`, never reminded while the experiment runs |
//! | 17 | `not_due_anymore`, `not_in_plan`, `plan_changed` | send, `--plan` only | [`crate::plan`] | after the decisions: planned but not due today (today's reason in `error`), due but not planned, or its message changed since the review |
//!
//! Where a new rule goes: a rule that reads the export (the order, or the buyer's other orders)
//! runs in the survey, and whatever it reads of an order must be in the fingerprint (so a
//! changed export is noticed between the passes); a rule that reads the ledger or needs the
//! step runs in the second pass. Either way: one function, one [`Reason`] variant, a row here.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use rustc_hash::FxBuildHasher;

use crate::config::Settings;
use crate::error::Error;
use crate::ingest::{self, Detail, ExportInfo, Grouping, Item, Source};
use crate::ledger::{Memory, PaidBatch};
use crate::order::Order;
use crate::render::format::Formats;
use crate::render::language::Chooser;
use crate::render::{MessageContext, ShopContext, Templates};
use crate::report::{Decision, Entry, Reason};
use crate::units::normalize_label;

pub mod consent;
pub mod experiment;
pub mod history;
pub mod ladder;
pub mod select;
pub mod timing;

use self::ladder::{Action, Facts};
use self::select::{Survey, Verdict};

/// How [`decide_each`] is asked.
pub struct Options<'a> {
    /// At most this many reminders.
    pub limit: Option<u64>,
    /// What earlier runs sent (empty without a ledger).
    pub memory: &'a Memory,
    /// Send again the orders whose earlier attempt ended ambiguously.
    pub retry_unknown: bool,
    /// Hand on only the reminders (and the orders held out for the control group), and stop
    /// reading once `limit` reminders are found.
    pub reminders_only: bool,
    /// Render the reminders' messages (`false`: the entries say which template, no text).
    pub render: bool,
}

impl<'a> Options<'a> {
    /// Every entry, rendered, with no limit.
    #[must_use]
    pub fn all(memory: &'a Memory) -> Options<'a> {
        Options {
            limit: None,
            memory,
            retry_unknown: false,
            reminders_only: false,
            render: true,
        }
    }
}

/// The first pass's result: a verdict for every order, and what the export said.
pub struct Surveyed {
    verdicts: Vec<Verdict>,
    /// Rows, warnings, encoding, mapping, and the grouping the second pass must use.
    pub info: ExportInfo,
    /// Of what the decisions rest on ([`fingerprint`]): the second pass must see the same.
    fingerprint: u64,
}

impl Surveyed {
    /// How many orders the export has (multi-row orders count once).
    #[must_use]
    pub fn orders(&self) -> usize {
        self.verdicts.len()
    }
}

/// Adds an item to a fingerprint of the export: what the decisions rest on (an order's line,
/// number, buyer, contact, channel, status, times, payment method, fulfilment, tracking, terms
/// and tags;
/// a bad row's line and buyer), so an export
/// replaced between the passes is noticed even when its order numbers stay where they were.
fn fingerprint(hasher: &mut impl Hasher, item: &Item) {
    match item {
        // Times as seconds: hashing chrono's parts field by field cost 5 % of a run.
        Item::Order(o) => (
            o.line,
            &o.id,
            &o.buyer,
            &o.email,
            &o.channel,
            o.status as u8,
            o.created_at.timestamp(),
            o.paid_at.map(|t| t.timestamp()),
            o.close_at.map(|t| t.timestamp()),
            o.prior_paid_orders,
            (
                &o.payment_method,
                &o.fulfillment,
                o.tracked,
                &o.payment_terms,
                &o.tags,
            ),
        )
            .hash(hasher),
        Item::Invalid(row) => (row.line, &row.order_id, &row.buyer).hash(hasher),
    }
}

/// The first pass: reads the export once and judges every order. With `paid`, a sending run
/// remembers the export's paid orders in the ledger on the way (only from the reading that
/// counts: see [`ingest::visit`]).
///
/// # Errors
/// The export cannot be read (see [`ingest::visit`]), or the ledger cannot be written.
pub fn survey(
    source: &Source,
    settings: &Settings,
    now: DateTime<Utc>,
    memory: &Memory,
    paid: Option<&mut PaidBatch<'_>>,
) -> Result<Surveyed, Error> {
    let paid = RefCell::new(paid);
    let start = || {
        // A reading before this one (orders turned out scattered) saw fragments of orders.
        if let Some(batch) = paid.borrow_mut().as_mut() {
            batch.restart()?;
        }
        Ok((
            Survey::new(settings, now, &memory.paid).suppressing(memory),
            FxBuildHasher.build_hasher(),
        ))
    };
    let ((survey, hasher), info) = ingest::visit(
        source,
        settings,
        Detail::Decisions,
        start,
        |(survey, hasher), item| {
            fingerprint(hasher, item);
            match item {
                Item::Order(order) => {
                    survey.order(order);
                    if let Some(batch) = paid.borrow_mut().as_mut() {
                        batch.add(order)?;
                    }
                }
                Item::Invalid(row) => survey.invalid(row),
            }
            Ok(())
        },
    )?;
    Ok(Surveyed {
        verdicts: survey.verdicts(),
        info,
        fingerprint: hasher.finish(),
    })
}

/// Select, plan and render: [`survey`] then [`decide_each`], the entries collected (tests,
/// fuzzing, embedding; the command line streams them instead).
///
/// # Errors
/// As [`survey`] and [`decide_each`].
pub fn decide(
    source: &Source,
    settings: &Settings,
    templates: &Templates,
    now: DateTime<Utc>,
    options: &Options<'_>,
) -> Result<Vec<Entry<'static>>, Error> {
    let source = source.rereadable()?;
    let surveyed = survey(&source, settings, now, options.memory, None)?;
    let mut entries = Vec::with_capacity(surveyed.orders());
    decide_each(
        &source,
        &surveyed,
        settings,
        templates,
        now,
        options,
        &mut |entry| {
            entries.push(entry.into_owned());
            Ok(())
        },
    )?;
    Ok(entries)
}

/// The second pass: reads the export again and hands each entry to `emit` as soon as it is
/// decided, in file order (orders at their first row, bad rows by line).
///
/// The ledger's decisions come after select's: `outcome_unknown`, `bounced`, `gave_up`
/// before the plan, `already_reminded` (this step, or a later one, was sent) and `buyer_cap`
/// (a reminder to the buyer less than `min_gap` ago) after it; then [`timing`]'s
/// `outside_send_window` and `quiet_hours` (off unless configured), `--limit`, and last the
/// control group of `[experiment]` ([`experiment`]: off unless configured).
///
/// Returns what this reading of the export said: with every detail read, its warnings are
/// the complete ones (the first pass leaves out those about names).
///
/// # Errors
/// A template that fails to render for a real order, an export that changed since the first
/// pass, or what `emit` returns.
pub fn decide_each(
    source: &Source,
    surveyed: &Surveyed,
    settings: &Settings,
    templates: &Templates,
    now: DateTime<Utc>,
    options: &Options<'_>,
    emit: &mut dyn FnMut(Entry) -> Result<(), Error>,
) -> Result<ExportInfo, Error> {
    let changed = || changed(source);
    let layout =
        crate::config::Languages::of_layout(surveyed.info.mapping.as_ref().map(|m| m.layout));
    let mut decider = Decider {
        settings,
        templates,
        chooser: Chooser::new(&settings.languages, layout),
        formats: Formats::default(),
        shop: ShopContext::new(&settings.shop, now)?,
        now,
        options,
        promo_ends_in: settings
            .shop
            .promo_ends
            .map(|end| end.signed_duration_since(now)),
        reminders: 0,
        offers: consent::SellerOffers::find(settings),
    };
    let mut hasher = FxBuildHasher.build_hasher();
    let mut verdicts = surveyed.verdicts.iter();
    let mut complete = true;
    // Whether the orders are adjacent was found by the survey; a change since then shows in
    // the fingerprint.
    let grouping = match surveyed.info.grouping {
        Grouping::Adjacent => Grouping::AdjacentAsFound,
        other => other,
    };
    let (mut info, _) = ingest::each(source, settings, grouping, Detail::Full, |item| {
        fingerprint(&mut hasher, item);
        let order = match item {
            Item::Order(order) => order,
            Item::Invalid(row) => {
                if !options.reminders_only {
                    emit(Entry::for_invalid(row))?;
                }
                return Ok(ControlFlow::Continue(()));
            }
        };
        let verdict = *verdicts.next().ok_or_else(changed)?;
        let entry = decider.decide(order, verdict)?;
        // A hold-out is recorded like a reminder that was not sent: handed on with them.
        if !options.reminders_only
            || entry.decision == Decision::Remind
            || entry.reason == Some(Reason::ControlGroup)
        {
            emit(entry)?;
        }
        if options.reminders_only && options.limit.is_some_and(|l| decider.reminders >= l) {
            // Nothing after this can be a reminder: the rest of the file need not be read.
            complete = false;
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    if complete && (verdicts.next().is_some() || hasher.finish() != surveyed.fingerprint) {
        return Err(changed());
    }
    if let Some(warning) = in_future_warning(&surveyed.verdicts, now) {
        info.warnings.push(warning);
    }
    if let Some(warning) = decider.chooser.warning() {
        info.warnings.push(warning);
    }
    Ok(info)
}

/// Orders dated after `now` mean a clock or a zone is wrong somewhere: worth a warning, since
/// every age (and so every step) may be off too.
fn in_future_warning(verdicts: &[Verdict], now: DateTime<Utc>) -> Option<String> {
    let count = verdicts
        .iter()
        .filter(|v| **v == Verdict::Skip(Reason::InFuture))
        .count();
    let orders = if count == 1 { "order is" } else { "orders are" };
    (count > 0).then(|| {
        format!(
            "{count} {orders} dated after now ({}): check the computer's clock, --now and [source] timezone",
            now.format("%Y-%m-%d %H:%M UTC")
        )
    })
}

/// The error for an export that is not the same on a second reading.
#[must_use]
pub fn changed(source: &Source) -> Error {
    Error::Export {
        path: source.display(),
        message: "changed while it was being read (is the export still being written?); run payremind again once the file is complete".into(),
    }
}

/// What the second pass needs to decide one order.
struct Decider<'a> {
    settings: &'a Settings,
    templates: &'a Templates,
    /// Each order's language.
    chooser: Chooser,
    /// Amounts, dates and durations per language, each formatter made once.
    formats: Formats,
    /// `shop` as templates see it, made once.
    shop: ShopContext<'a>,
    now: DateTime<Utc>,
    options: &'a Options<'a>,
    promo_ends_in: Option<chrono::TimeDelta>,
    /// Reminders so far (for `--limit`).
    reminders: u64,
    /// The seller's templates that make an offer.
    offers: consent::SellerOffers,
}

impl Decider<'_> {
    /// The entry of one order, given select's verdict: the ledger's rules, the ladder, then
    /// `--limit`, in the order of the table above.
    fn decide<'o>(&mut self, order: &'o Order, verdict: Verdict) -> Result<Entry<'o>, Error> {
        let (settings, memory, now) = (self.settings, self.options.memory, self.now);
        let entry = Entry::for_order(order, now);
        let (buyer_type, closing_soon) = match verdict {
            Verdict::Skip(Reason::NoContact) => return Ok(entry.no_contact(&order.email)),
            Verdict::Skip(reason) => return Ok(entry.skipped(reason)),
            Verdict::Candidate {
                buyer_type,
                closing_soon,
            } => (buyer_type, closing_soon),
        };
        let mut entry = Entry {
            buyer_type: Some(buyer_type),
            ..entry
        };
        let to = select::email_address(&order.email)
            .map(|a| a.to_string())
            .unwrap_or_default();
        let before_plan = history::outcome_unknown(memory, order, self.options.retry_unknown)
            .or_else(|| history::bounced(memory, &to))
            .or_else(|| history::gave_up(memory, order, settings));
        if let Some(reason) = before_plan {
            return Ok(entry.skipped(reason));
        }
        let facts = Facts {
            buyer_type,
            age: order.age(now),
            closing_soon,
            low_stock: order.products.iter().any(|p| {
                settings
                    .shop
                    .low_stock_products
                    .iter()
                    .any(|l| l.trim() == ingest::product::name_of(p))
            }),
            promo_ends_in: self.promo_ends_in,
            has_perk: !settings.shop.returning_perk.is_empty(),
            bank_transfer: settings
                .select
                .bank_transfer_methods
                .find(&order.payment_method)
                .is_some(),
            source: &normalize_label(&order.channel),
            products: &order.products,
        };
        let template = match ladder::plan(&settings.rules, &facts) {
            Action::Skip(reason) => return Ok(entry.skipped(reason)),
            Action::Template(template) => template,
        };
        // --retry-unknown sends the unsettled step once more; anything else follows the ladder.
        let retrying = self.options.retry_unknown
            && memory.unknown_steps(&order.id).contains(&template.as_str());
        let after_plan = history::already_reminded(memory, order, &template, settings, retrying)
            .or_else(|| history::buyer_cap(memory, order, settings, now, retrying));
        if let Some(reason) = after_plan {
            return Ok(entry.skipped(reason));
        }
        if let Some((reason, due)) = timing::hold(order, settings, now, closing_soon) {
            entry.due_at = due.map(|d| d.with_timezone(&settings.timezone).to_rfc3339());
            return Ok(entry.skipped(reason));
        }
        if let Some(reason) = self.over_limit() {
            return Ok(entry.skipped(reason));
        }
        // Last: only an order that would be reminded today is held out, at this step.
        if let Some(reason) = experiment::hold_out(&settings.experiment, &order.buyer) {
            entry.template = Some(template);
            return Ok(entry.skipped(reason));
        }
        // An offer to a buyer who did not accept marketing: the plain wording, same step.
        let wording = self.offers.wording(&template, order.consent, settings);
        let words = wording.unwrap_or(&template);
        let default = self.chooser.default();
        let language = self
            .templates
            .language_of(self.chooser.choose(order), default, words);
        entry.language = Some(language);
        if self.options.render {
            let (sent, _, _) = memory.sent(&order.id);
            let context = MessageContext::new(
                &self.shop,
                order,
                buyer_type,
                to.clone(),
                now,
                sent,
                language,
                &mut self.formats,
            );
            let message = self.templates.render(language, default, words, &context)?;
            entry.html = self
                .templates
                .render_html(language, default, words, &context)?;
            entry.subject = Some(message.subject);
            entry.body = Some(message.body);
        }
        self.reminders += 1;
        entry.decision = Decision::Remind;
        entry.wording = wording;
        entry.template = Some(template);
        entry.to = Some(to);
        Ok(entry)
    }

    /// `--limit` reminders are decided already.
    fn over_limit(&self) -> Option<Reason> {
        self.options
            .limit
            .is_some_and(|limit| self.reminders >= limit)
            .then_some(Reason::OverLimit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const HEADER: &str = "order_id,email,status,created_at\n";

    fn settings() -> Settings {
        let text = "[shop]\nname = \"Shop\"\n[source]\ntimezone = \"Asia/Shanghai\"\n";
        let path = std::path::Path::new("test.toml");
        Settings::resolve(Config::parse(text, path).unwrap(), Some(path)).unwrap()
    }

    fn export(rows: &[&str]) -> Source {
        Source::from_bytes(
            "orders.csv",
            format!("{HEADER}{}\n", rows.join("\n")).into_bytes(),
        )
    }

    /// The second pass of `first` run over `second`: the entries, or the error.
    fn two_exports(first: &Source, second: &Source) -> Result<Vec<Entry<'static>>, Error> {
        let settings = settings();
        let templates = Templates::load(&settings).unwrap();
        let now = crate::clock::parse_instant("2026-11-23T09:00:00+08:00").unwrap();
        let memory = Memory::default();
        let surveyed = survey(first, &settings, now, &memory, None).unwrap();
        let mut entries = Vec::new();
        let options = Options::all(&memory);
        decide_each(
            second,
            &surveyed,
            &settings,
            &templates,
            now,
            &options,
            &mut |e| {
                entries.push(e.into_owned());
                Ok(())
            },
        )
        .map(|_| entries)
    }

    #[test]
    fn an_export_that_changes_between_the_passes_is_an_error_not_a_wrong_decision() {
        let a = export(&["A1,a@example.com,pending,2026-11-22 10:00"]);
        let same = two_exports(&a, &a).unwrap();
        assert_eq!(same.len(), 1);
        let longer = export(&[
            "A1,a@example.com,pending,2026-11-22 10:00",
            "A2,b@example.com,pending,2026-11-22 11:00",
        ]);
        let other = export(&["B1,a@example.com,pending,2026-11-22 10:00"]);
        let shorter = export(&[]);
        // The same order numbers on the same lines, but A1 is paid now (a re-download).
        let paid = export(&["A1,a@example.com,paid,2026-11-22 10:00"]);
        for changed in [longer, other, shorter, paid] {
            let err = two_exports(&a, &changed).unwrap_err().to_string();
            assert!(err.contains("changed while it was being read"), "{err}");
        }
    }
}
