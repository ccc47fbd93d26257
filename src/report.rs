//! The run's record: one [`Entry`] per order (what was decided and why) and the [`Summary`] that
//! tallies them. Both are `Serialize` for scripts (JSON Lines) and the summary is `Display` for
//! people. The summary also decides the exit code of a run that got this far.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::ledger::Status;
use crate::order::{BuyerType, InvalidRow, Order, Text, describe_bad_row};

/// Whether an order gets a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// A reminder is (or, in a dry run, would be) sent.
    Remind,
    /// Left alone; `reason` says why.
    Skip,
}

/// One order's outcome: a JSON Lines object of `"type":"order"`. It borrows the order's text
/// (a million orders are printed without copying their strings); [`Entry::into_owned`] keeps
/// one past its order.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    /// Always `order`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Order number as exported.
    pub order_id: Cow<'a, str>,
    /// Buyer identity used by the per-buyer rules.
    pub buyer_id: Cow<'a, str>,
    /// Name as exported.
    pub buyer_name: Cow<'a, str>,
    /// Remind or skip.
    pub decision: Decision,
    /// Why it is skipped.
    pub reason: Option<Reason>,
    /// Template of the reminder: the ladder's step (what the ledger records).
    pub template: Option<String>,
    /// The language the reminder is written in (a tag: `en`, `zh-CN`, `pt-BR`).
    pub language: Option<&'static str>,
    /// `plain` when the step makes an offer and the buyer did not accept marketing: the
    /// message is the built-in plain wording instead of the step's; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wording: Option<&'static str>,
    /// The buyer's type, once known.
    pub buyer_type: Option<BuyerType>,
    /// Hours since the order was placed.
    pub age_hours: Option<f64>,
    /// The bare address the reminder goes to.
    pub to: Option<String>,
    /// Subject of the reminder.
    pub subject: Option<String>,
    /// Body of the reminder.
    pub body: Option<String>,
    /// The HTML alternative, when the step has an HTML template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// With `--send`: what became of it (`sent`, `failed`, `unknown`, `bounced`); absent when
    /// it was not attempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::ledger::Status>,
    /// With `--send`: the server's reply or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_reply: Option<String>,
    /// The order total with its currency (`128.00 USD`: short, kept inline).
    pub total: Option<Text>,
    /// The order's product lines, every row of a multi-row order.
    pub products: Cow<'a, [Text]>,
    /// When the order was placed (RFC 3339, store zone).
    pub created_at: Option<String>,
    /// Line of the order's first row (or of the bad row).
    pub line: u64,
    /// Bad row: 1-based column of the bad cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Bad row: the bad value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Bad row: what is wrong and what to do; `no_contact`: why the address is no good;
    /// a reminder whose message could not be made: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `outside_send_window`, `quiet_hours`: when the reminder becomes due (RFC 3339, store
    /// zone); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
}

/// Why an order gets no reminder: every reason payremind reports, and the only place one is
/// named. When each applies, and in which pass, is the table in [`crate::decide`](mod@crate::decide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A row that could not be read (ingest).
    InvalidRow,
    /// The order is paid.
    Paid,
    /// The order is closed or past its close time.
    Closed,
    /// A distribution channel: settles late, may well be paid.
    DistributionChannel,
    /// A subscription's renewal order: not a buyer's decision to remind about.
    SubscriptionRenewal,
    /// Paid on delivery or later (cash on delivery): pending until the courier collects.
    PayLater,
    /// B2B payment terms: the buyer pays by the agreed date.
    PaymentTerms,
    /// The order has shipped: the shop trusted the buyer.
    AlreadyShipped,
    /// The buyer paid another order the same store day.
    PaidSameDay,
    /// The buyer paid an order placed after this one: the latest order is their decision.
    PaidLater,
    /// Another row of the buyer could not be read; it may be paid or later.
    BuyerHasInvalidRow,
    /// A later order of the buyer is the one reminded.
    Superseded,
    /// Dated after `now`: the clock or the time zone is wrong.
    InFuture,
    /// Too old to be worth a reminder.
    TooOld,
    /// Too early for a reminder.
    TooRecent,
    /// No address a reminder could go to.
    NoContact,
    /// The buyer asked for no more reminders: the address (or another address of the same
    /// buyer) is on the suppression list (`payremind suppress`).
    Unsubscribed,
    /// An earlier reminder may or may not have arrived (not retried on its own).
    OutcomeUnknown,
    /// The buyer's address was refused for good by the mail server.
    Bounced,
    /// The final offer was sent, `max_reminders` were, or a message was refused for good.
    GaveUp,
    /// No rule of the ladder matches the order.
    NoRule,
    /// A returning buyer, and no perk to offer (the built-in ladder).
    NoOfferForReturning,
    /// A bank transfer may still be on its way (the built-in ladder waits 48 h).
    WaitingForTransfer,
    /// A `[[rules]]` entry's own `skip = "…"`.
    Rule(RuleSkip),
    /// This step, or a later one, was already sent.
    AlreadyReminded,
    /// The buyer was reminded less than `min_gap` ago.
    BuyerCap,
    /// Due, but not in the window before a dispatch cutoff (`[select] send_before_dispatch`):
    /// `due_at` says when it is.
    OutsideSendWindow,
    /// Due, but it is night where the buyer is (`[select] quiet_hours`): `due_at` says when
    /// it ends.
    QuietHours,
    /// Past `--limit`.
    OverLimit,
    /// In the plan (`--plan`), but not due today: today's reason is in the entry's `error`.
    NotDueAnymore,
    /// Due today, but not in the plan (`--plan`): nobody reviewed it.
    NotInPlan,
    /// In the plan, but its address, subject, body or step changed since the review.
    PlanChanged,
    /// Due, but the buyer is in the control group of `[experiment]`: held out, never
    /// reminded while the experiment runs, so that `payremind report` can measure the lift.
    ControlGroup,
}

impl Reason {
    /// Every reason with a fixed name, in the order the passes can give them.
    pub const FIXED: [Reason; 32] = [
        Reason::InvalidRow,
        Reason::Paid,
        Reason::Closed,
        Reason::DistributionChannel,
        Reason::SubscriptionRenewal,
        Reason::PaymentTerms,
        Reason::PayLater,
        Reason::AlreadyShipped,
        Reason::PaidSameDay,
        Reason::PaidLater,
        Reason::BuyerHasInvalidRow,
        Reason::Superseded,
        Reason::InFuture,
        Reason::TooOld,
        Reason::TooRecent,
        Reason::NoContact,
        Reason::Unsubscribed,
        Reason::OutcomeUnknown,
        Reason::Bounced,
        Reason::GaveUp,
        Reason::NoRule,
        Reason::NoOfferForReturning,
        Reason::WaitingForTransfer,
        Reason::AlreadyReminded,
        Reason::BuyerCap,
        Reason::OutsideSendWindow,
        Reason::QuietHours,
        Reason::OverLimit,
        Reason::NotDueAnymore,
        Reason::NotInPlan,
        Reason::PlanChanged,
        Reason::ControlGroup,
    ];

    /// The reason's name in reports and JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidRow => "invalid_row",
            Reason::Paid => "paid",
            Reason::Closed => "closed",
            Reason::DistributionChannel => "distribution_channel",
            Reason::SubscriptionRenewal => "subscription_renewal",
            Reason::PayLater => "pay_later",
            Reason::PaymentTerms => "payment_terms",
            Reason::AlreadyShipped => "already_shipped",
            Reason::PaidSameDay => "paid_same_day",
            Reason::PaidLater => "paid_later",
            Reason::InFuture => "in_future",
            Reason::BuyerHasInvalidRow => "buyer_has_invalid_row",
            Reason::Superseded => "superseded",
            Reason::TooOld => "too_old",
            Reason::TooRecent => "too_recent",
            Reason::NoContact => "no_contact",
            Reason::Unsubscribed => "unsubscribed",
            Reason::OutcomeUnknown => "outcome_unknown",
            Reason::Bounced => "bounced",
            Reason::GaveUp => "gave_up",
            Reason::NoRule => "no_rule",
            Reason::NoOfferForReturning => "no_offer_for_returning",
            Reason::WaitingForTransfer => "waiting_for_transfer",
            Reason::Rule(skip) => skip.as_str(),
            Reason::AlreadyReminded => "already_reminded",
            Reason::BuyerCap => "buyer_cap",
            Reason::OutsideSendWindow => "outside_send_window",
            Reason::QuietHours => "quiet_hours",
            Reason::OverLimit => "over_limit",
            Reason::NotDueAnymore => "not_due_anymore",
            Reason::NotInPlan => "not_in_plan",
            Reason::PlanChanged => "plan_changed",
            Reason::ControlGroup => "control_group",
        }
    }

    /// The reason a `[[rules]]` entry's `skip = "…"` names: a fixed reason when it is one's
    /// name, else the seller's own.
    ///
    /// # Errors
    /// More than 255 different own reasons in one process.
    pub fn for_rule(name: &str) -> Result<Reason, String> {
        match Reason::FIXED.into_iter().find(|r| r.as_str() == name) {
            Some(fixed) => Ok(fixed),
            None => RuleSkip::new(name).map(Reason::Rule),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A seller's own skip reason from `[[rules]]`, kept as a one-byte number so that a
/// [`Reason`] stays `Copy` and two bytes: the first pass keeps one per order (32 bytes each).
/// The names are interned once per process (a config names a handful) and live as long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleSkip(u8);

/// The own skip reasons met so far, numbered.
static RULE_SKIPS: std::sync::RwLock<Vec<&'static str>> = std::sync::RwLock::new(Vec::new());

impl RuleSkip {
    fn new(name: &str) -> Result<RuleSkip, String> {
        let mut names = RULE_SKIPS
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = names.iter().position(|n| *n == name) {
            return Ok(RuleSkip(u8::try_from(i).unwrap_or(u8::MAX)));
        }
        let number = u8::try_from(names.len())
            .map_err(|_| "more than 255 different skip reasons: use fewer names".to_owned())?;
        names.push(Box::leak(name.to_owned().into_boxed_str()));
        Ok(RuleSkip(number))
    }

    /// The name as the seller wrote it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        RULE_SKIPS
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("rule")
    }
}

impl<'a> Entry<'a> {
    /// An order decided on (remind or skip); message fields filled by the caller for reminders.
    #[must_use]
    pub fn for_order(order: &'a Order, now: chrono::DateTime<chrono::Utc>) -> Entry<'a> {
        Entry {
            kind: "order",
            order_id: Cow::Borrowed(&order.id),
            buyer_id: Cow::Borrowed(&order.buyer),
            buyer_name: Cow::Borrowed(&order.buyer_name),
            decision: Decision::Skip,
            reason: None,
            template: None,
            language: None,
            wording: None,
            buyer_type: None,
            age_hours: Some(crate::order::hours(order.age(now))),
            to: None,
            subject: None,
            body: None,
            html: None,
            status: None,
            server_reply: None,
            total: order
                .total
                .as_ref()
                .map(|total| compact_str::format_compact!("{total}")),
            products: Cow::Borrowed(&order.products),
            created_at: Some(order.created_at.to_rfc3339()),
            line: order.line,
            column: None,
            value: None,
            error: None,
            due_at: None,
        }
    }

    /// A row that could not be read.
    #[must_use]
    pub fn for_invalid(row: &'a InvalidRow) -> Entry<'a> {
        Entry {
            kind: "order",
            order_id: Cow::Borrowed(&row.order_id),
            buyer_id: Cow::Borrowed(&row.buyer),
            buyer_name: Cow::Borrowed(""),
            decision: Decision::Skip,
            reason: Some(Reason::InvalidRow),
            template: None,
            language: None,
            wording: None,
            buyer_type: None,
            age_hours: None,
            to: None,
            subject: None,
            body: None,
            html: None,
            status: None,
            server_reply: None,
            total: None,
            products: Cow::Borrowed(&[]),
            created_at: None,
            line: row.line,
            column: row.column,
            value: Some(row.value.clone()),
            error: Some(row.error.clone()),
            due_at: None,
        }
    }

    /// Marks the entry skipped for `reason`.
    #[must_use]
    pub fn skipped(mut self, reason: Reason) -> Entry<'a> {
        self.decision = Decision::Skip;
        self.reason = Some(reason);
        self
    }

    /// Marks the entry skipped as `no_contact`, with why the address is no good in `error`.
    #[must_use]
    pub fn no_contact(mut self, contact: &str) -> Entry<'a> {
        self.error = crate::address::recipient(contact).err();
        self.skipped(Reason::NoContact)
    }

    /// The same entry, owning its text.
    #[must_use]
    pub fn into_owned(self) -> Entry<'static> {
        Entry {
            order_id: Cow::Owned(self.order_id.into_owned()),
            buyer_id: Cow::Owned(self.buyer_id.into_owned()),
            buyer_name: Cow::Owned(self.buyer_name.into_owned()),
            products: Cow::Owned(self.products.into_owned()),
            ..self
        }
    }
}

/// Whether a count is zero (a JSON field left out then).
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many order ids per reason the text summary lists.
const EXAMPLES_PER_REASON: usize = 8;

/// How many bad rows the text summary and `check` list; the rest are counted (a whole file of
/// bad rows, as a wrong encoding makes, would otherwise be a million lines, all kept until the
/// end). The JSON Lines output has every one.
pub const BAD_ROWS_SHOWN: usize = 20;

/// The line after the first [`BAD_ROWS_SHOWN`] bad rows, when there are more.
#[must_use]
pub fn more_bad_rows(total: u64) -> Option<String> {
    let more = total.saturating_sub(BAD_ROWS_SHOWN as u64);
    (more > 0)
        .then(|| format!("… and {more} more bad rows (all of them: payremind run --format json)"))
}

/// The tally of a run: a JSON Lines object of `"type":"summary"`, or a few lines for people.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Always `summary`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The export read.
    pub file: String,
    /// Its encoding.
    pub encoding: String,
    /// The instant the run was evaluated at (RFC 3339).
    pub now: String,
    /// True: nothing was sent.
    pub dry_run: bool,
    /// Data rows read.
    pub rows: u64,
    /// Orders that could be read (multi-row orders count once).
    pub orders: u64,
    /// Rows that could not be read.
    pub invalid_rows: u64,
    /// Orders with a reminder.
    pub reminders: u64,
    /// Reminders by the language they are written in.
    pub languages: BTreeMap<String, u64>,
    /// Of the reminders, those of an offer step in the `plain` wording (the buyer did not
    /// accept marketing); absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub plain_wording: u64,
    /// Skipped orders by reason (`invalid_row` included): with `reminders`, one per entry.
    pub skipped: BTreeMap<String, u64>,
    /// Things to look at that did not stop any row.
    pub warnings: Vec<String>,
    /// With `--send`: reminders the server accepted.
    pub sent: u64,
    /// With `--send`: reminders not accepted (retried on the next run).
    pub failed: u64,
    /// With `--send`: reminders whose outcome is unknown (maybe sent; not retried on their own).
    pub unknown: u64,
    /// With `--send`: reminders whose address was refused for good.
    pub bounced: u64,
    /// With `--send`: reminders refused after their data for their content (the address is
    /// not blamed; tried again on a later run).
    pub rejected: u64,
    /// With `--send`: reminders not attempted because the run was interrupted.
    pub not_attempted: u64,
    /// The run was interrupted (SIGINT/SIGTERM).
    pub interrupted: bool,
    /// Why sending stopped before the end, when it did (the mail server could not be reached).
    pub stopped: Option<String>,
    /// Seconds the run took.
    pub elapsed_seconds: f64,
    /// What each breaker of the guard measured, its limit and its verdict: `crate::guard`'s
    /// report as JSON (kept as a value, so that the tally does not depend on the guard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<serde_json::Value>,
    /// Text mode only: the reminders that were not sent, one line each.
    #[serde(skip)]
    problems: Vec<String>,
    /// Text mode only: some order ids per reason.
    #[serde(skip)]
    examples: BTreeMap<String, Vec<String>>,
    /// Text mode only: the bad rows, one line each.
    #[serde(skip)]
    invalid: Vec<String>,
}

impl Summary {
    /// An empty tally for the run over `file`.
    #[must_use]
    pub fn new(file: String, encoding: &str, now: String, dry_run: bool) -> Summary {
        Summary {
            kind: "summary",
            file,
            encoding: encoding.to_owned(),
            now,
            dry_run,
            rows: 0,
            orders: 0,
            invalid_rows: 0,
            reminders: 0,
            languages: BTreeMap::new(),
            plain_wording: 0,
            skipped: BTreeMap::new(),
            warnings: Vec::new(),
            sent: 0,
            failed: 0,
            unknown: 0,
            bounced: 0,
            rejected: 0,
            not_attempted: 0,
            interrupted: false,
            stopped: None,
            elapsed_seconds: 0.0,
            guard: None,
            problems: Vec::new(),
            examples: BTreeMap::new(),
            invalid: Vec::new(),
        }
    }

    /// Counts one entry.
    pub fn record(&mut self, entry: &Entry<'_>) {
        if entry.decision == Decision::Remind {
            self.reminders += 1;
            if let Some(language) = entry.language {
                match self.languages.get_mut(language) {
                    Some(count) => *count += 1,
                    None => {
                        self.languages.insert(language.to_owned(), 1);
                    }
                }
            }
            self.plain_wording += u64::from(entry.wording.is_some());
            if self.dry_run {
                return;
            }
            let reply = entry.server_reply.as_deref().unwrap_or_default();
            let problem = match entry.status {
                Some(Status::Sent) => {
                    self.sent += 1;
                    None
                }
                Some(Status::Failed) => {
                    self.failed += 1;
                    Some(format!(
                        "failed: {reply}; it is tried again on the next run"
                    ))
                }
                Some(Status::Bounced) => {
                    self.bounced += 1;
                    Some(format!(
                        "refused for good: {reply}; this address is not written to again"
                    ))
                }
                Some(Status::Rejected) => {
                    self.rejected += 1;
                    Some(format!(
                        "the message was refused after its data: {reply}; it is tried again on a later run, up to [select].max_reminders in all (check the template if many are refused)"
                    ))
                }
                Some(Status::Unknown | Status::Intent) => {
                    self.unknown += 1;
                    Some(format!(
                        "outcome unknown: {reply}; maybe sent, so it is not sent again on its own: check the mail server's log, then run with --retry-unknown to send it once more"
                    ))
                }
                // Never an entry's status (only `history` shows a `forget`, an adoption or a
                // forced run).
                Some(
                    Status::Forgotten
                    | Status::Adopted
                    | Status::Forced
                    | Status::Suppressed
                    | Status::Unsuppressed,
                )
                | None => {
                    self.not_attempted += 1;
                    let why = if self.stopped.is_some() {
                        "the mail server could not be reached, or refused to take mail"
                    } else {
                        "the run was interrupted"
                    };
                    Some(format!("not attempted ({why}); it is sent on the next run"))
                }
            };
            if let Some(problem) = problem {
                self.problems.push(format!(
                    "order {} to {}: {problem}",
                    entry.order_id,
                    entry.to.as_deref().unwrap_or_default()
                ));
            }
            return;
        }
        // Counted for every skipped order of the export: no copy of the reason once it is known.
        let Some(reason) = entry.reason else {
            return;
        };
        match self.skipped.get_mut(reason.as_str()) {
            Some(count) => *count += 1,
            None => {
                self.skipped.insert(reason.as_str().to_owned(), 1);
            }
        }
        if !self.dry_run && reason == Reason::OutcomeUnknown {
            self.problems.push(format!(
                "order {}: an earlier reminder may or may not have arrived (the connection broke, or a run was killed while sending); check the mail server's log, then run with --retry-unknown to send it once more",
                entry.order_id
            ));
        }
        if reason == Reason::InvalidRow {
            self.invalid_rows += 1;
            if self.invalid.len() >= BAD_ROWS_SHOWN {
                return;
            }
            self.invalid.push(describe_bad_row(
                &self.file,
                entry.line,
                entry.column,
                entry.value.as_deref().unwrap_or_default(),
                entry.error.as_deref().unwrap_or_default(),
            ));
        } else {
            match self.examples.get_mut(reason.as_str()) {
                Some(ids) if ids.len() >= EXAMPLES_PER_REASON => {}
                Some(ids) => ids.push(entry.order_id.to_string()),
                None => {
                    self.examples
                        .insert(reason.as_str().to_owned(), vec![entry.order_id.to_string()]);
                }
            }
        }
    }

    /// 0: every due reminder was handled (a dry run, or all sent); 1: some reminder that was
    /// due is not confirmed sent (failed, bounced, unknown, or not attempted).
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        let unsettled = self
            .skipped
            .get(Reason::OutcomeUnknown.as_str())
            .copied()
            .unwrap_or(0);
        if self.dry_run || (self.sent == self.reminders && unsettled == 0) {
            0
        } else {
            1
        }
    }
}

impl Summary {
    /// Skipped orders by reason, without the rows that could not be read (counted apart):
    /// orders = reminders + these.
    fn skipped_orders(&self) -> (u64, Vec<String>) {
        let counts: Vec<(&String, &u64)> = self
            .skipped
            .iter()
            .filter(|(reason, _)| reason.as_str() != Reason::InvalidRow.as_str())
            .collect();
        let total = counts.iter().map(|(_, n)| **n).sum();
        let shown = counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
        (total, shown)
    }

    /// `en 3, zh-CN 2`: the reminders by language.
    fn languages_part(&self) -> String {
        self.languages
            .iter()
            .map(|(language, n)| format!("{language} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `, 1 invalid row` / `, 3 invalid rows`, or nothing.
    fn invalid_part(&self) -> String {
        match self.invalid_rows {
            0 => String::new(),
            1 => "; 1 invalid row".to_owned(),
            n => format!("; {n} invalid rows"),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (skipped, counts) = self.skipped_orders();
        let skipped_part = if skipped == 0 {
            String::new()
        } else {
            format!(", {skipped} skipped ({})", counts.join(", "))
        };
        if !self.dry_run {
            // Under cron: one line, then only what needs attention. The orders add up:
            // reminders + skipped = orders.
            writeln!(
                f,
                "payremind: {}: {} orders: {} reminders (sent {}, failed {}, unknown {}, bounced {}{}{}){skipped_part}{}, {:.1} s",
                self.file,
                self.orders,
                self.reminders,
                self.sent,
                self.failed,
                self.unknown,
                self.bounced,
                match self.rejected {
                    0 => String::new(),
                    n => format!(", rejected {n}"),
                },
                match (self.not_attempted, &self.stopped) {
                    (0, Some(why)) => format!(", stopped: {why}"),
                    (0, None) => String::new(),
                    (n, Some(why)) => format!(", not attempted {n} (stopped: {why})"),
                    (n, None) => format!(", not attempted {n} (interrupted)"),
                },
                self.invalid_part(),
                self.elapsed_seconds
            )?;
            // Under cron, only when the shop writes in more than one language.
            if self.languages.len() > 1 {
                writeln!(f, "  by language: {}", self.languages_part())?;
            }
            for line in &self.problems {
                writeln!(f, "  {line}")?;
            }
            for line in &self.invalid {
                writeln!(f, "  invalid row {line}")?;
            }
            if let Some(more) = more_bad_rows(self.invalid_rows) {
                writeln!(f, "  {more}")?;
            }
            for warning in &self.warnings {
                writeln!(f, "warning: {warning}")?;
            }
            return Ok(());
        }
        writeln!(
            f,
            "payremind: {}: {} orders: {} reminders to review, {skipped} skipped{} ({} rows read; dry run: nothing was sent)",
            self.file,
            self.orders,
            self.reminders,
            self.invalid_part(),
            self.rows
        )?;
        if !self.languages.is_empty() {
            writeln!(f, "reminders by language: {}", self.languages_part())?;
        }
        if self.plain_wording > 0 {
            writeln!(
                f,
                "{} of them in the plain wording: an offer step, to buyers whose export says they did not accept marketing ([select] offers_need_consent)",
                self.plain_wording
            )?;
        }
        if skipped > 0 {
            writeln!(f, "skipped {skipped}: {}", counts.join(", "))?;
            for (reason, ids) in &self.examples {
                let total = self.skipped.get(reason).copied().unwrap_or_default();
                let more = total.saturating_sub(ids.len() as u64);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                writeln!(f, "  {reason}: {}{more}", ids.join(", "))?;
            }
        }
        if !self.invalid.is_empty() {
            writeln!(
                f,
                "invalid rows {} (skipped, the other rows went on):",
                self.invalid_rows
            )?;
            for line in &self.invalid {
                writeln!(f, "  {line}")?;
            }
            if let Some(more) = more_bad_rows(self.invalid_rows) {
                writeln!(f, "  {more}")?;
            }
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}
