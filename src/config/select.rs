//! `[select]` and `[[rules]]`: who is left alone, and the reminder ladder.

use std::collections::HashSet;

use chrono::{NaiveTime, TimeDelta};
use serde::Deserialize;

use super::Bad;
use crate::decide::ladder::{self, Rule, RuleConfig};
use crate::error::Error;
use crate::units::{Phrases, normalize_label, parse_duration};

/// `[select]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// Youngest order worth a reminder (default 2h).
    pub min_age: Option<String>,
    /// Oldest order still worth one (default 7d).
    pub max_age: Option<String>,
    /// An order closing within this is reminded now, urgently (default 3h).
    pub closing_window: Option<String>,
    /// Channels whose orders settle late and are never reminded.
    #[serde(default)]
    pub distribution_channels: Vec<String>,
    /// Least time between two reminders to the same buyer (default 20h).
    pub min_gap: Option<String>,
    /// Most reminders per order (default 3).
    pub max_reminders: Option<u32>,
    /// Payment methods paid on delivery or later, added to the built-in `PAY_LATER_METHODS`: such orders
    /// are never reminded.
    pub pay_later_methods: Option<Vec<String>>,
    /// Payment methods that wait for a transfer, added to the built-in `BANK_TRANSFER_METHODS`: such
    /// orders get the `bank_transfer` message, never card instructions.
    pub bank_transfer_methods: Option<Vec<String>>,
    /// Send a domestic buyer's reminder only within this long before a `[shop]
    /// dispatch_times` cutoff, like `"1h"`; absent = any time.
    pub send_before_dispatch: Option<String>,
    /// The buyer's night, in the buyer's own time, like `"21:00-08:00"`: no reminder goes
    /// then; absent = none.
    pub quiet_hours: Option<String>,
    /// Offers (discount, popular, low stock, promotion, perks) only to buyers whose export
    /// says they accept marketing; the others get the `plain` wording (default true).
    pub offers_need_consent: Option<bool>,
}

/// Cash on delivery and the other ways a buyer pays later by choice (at pickup, by cheque,
/// money order or invoice, or a shop's manual method settled by hand), as shops and plugins
/// spell them in the markets payremind reads: the order stays `pending` until the money
/// arrives, and a reminder would nag a buyer who is paying.
pub const PAY_LATER_METHODS: &[&str] = &[
    // English
    "cash on delivery",
    "cashondelivery",
    "COD",
    "pay on delivery",
    "payment on delivery",
    "collect on delivery",
    "cash on pickup",
    "pay on pickup",
    "pay at pickup",
    "pay in store",
    "pay at store",
    "check payments",
    "cheque",
    "money order",
    "invoice",
    "manual",
    // Chinese, Japanese
    "货到付款",
    "代金引換",
    "代引き",
    // Russian, Polish, Czech
    "наложенный платёж",
    "наложенный платеж",
    "оплата при получении",
    "za pobraniem",
    "płatność przy odbiorze",
    "dobírka",
    "dobírkou",
    // Spanish, Portuguese, Italian
    "contra reembolso",
    "contrareembolso",
    "pago contra entrega",
    "pago contraentrega",
    "pagamento na entrega",
    "pagamento alla consegna",
    "contrassegno",
    // French, German, Dutch
    "paiement à la livraison",
    "Nachnahme",
    "Barzahlung bei Abholung",
    "rembours",
    // Turkish, Arabic, Indonesian, Vietnamese
    "kapıda ödeme",
    "الدفع عند الاستلام",
    "bayar di tempat",
    "thanh toán khi nhận hàng",
];

/// Bank transfers, as Shopify, WooCommerce and the marketplaces spell them: the buyer must send
/// money themselves, so a message about card checkout would be wrong. (`custom` is Shopify's
/// manual method as the export names it; a custom method named for cash on delivery, pickup or
/// an invoice is pay-later first.)
pub const BANK_TRANSFER_METHODS: &[&str] = &[
    "bank transfer",
    "direct bank transfer",
    "bank deposit",
    "bacs",
    "wire transfer",
    "bank wire",
    "custom",
    "银行转账",
    "银行汇款",
    "банковский перевод",
    "transferencia bancaria",
    "transferência bancária",
    "virement bancaire",
    "Banküberweisung",
    "Vorkasse",
];

/// `[select]`, resolved.
#[derive(Debug, Clone)]
pub struct Select {
    /// Youngest order worth a reminder.
    pub min_age: TimeDelta,
    /// Oldest order still worth one.
    pub max_age: TimeDelta,
    /// Closing this soon = remind now.
    pub closing_window: TimeDelta,
    /// Distribution channels, trimmed and lower-cased.
    pub distribution_channels: HashSet<String>,
    /// Least time between two reminders to the same buyer.
    pub min_gap: TimeDelta,
    /// Most reminders per order.
    pub max_reminders: u32,
    /// Pay-later payment methods (cash on delivery): the built-in ones and the seller's.
    pub pay_later_methods: Phrases,
    /// Bank-transfer payment methods: the built-in ones and the seller's.
    pub bank_transfer_methods: Phrases,
    /// The window before a dispatch cutoff a domestic reminder goes in; `None`: any time.
    pub send_before_dispatch: Option<TimeDelta>,
    /// The buyer's night (start, end, buyer's time); `None`: none.
    pub quiet_hours: Option<(NaiveTime, NaiveTime)>,
    /// A step that makes an offer goes to a buyer who did not accept marketing in the
    /// `plain` wording ([`crate::decide::consent`]).
    pub offers_need_consent: bool,
}

/// `[select]`: durations parsed, channels normalised, and an age window that can let an
/// order through.
pub(super) fn resolve(select: &SelectConfig, bad: Bad<'_>) -> Result<Select, Error> {
    let duration = |key: &str, value: Option<&str>, default: &str| {
        parse_duration(value.unwrap_or(default)).map_err(|m| bad(&format!("[select].{key}"), m))
    };
    let resolved = Select {
        min_age: duration("min_age", select.min_age.as_deref(), "2h")?,
        max_age: duration("max_age", select.max_age.as_deref(), "7d")?,
        closing_window: duration("closing_window", select.closing_window.as_deref(), "3h")?,
        distribution_channels: select
            .distribution_channels
            .iter()
            .map(|c| normalize_label(c))
            .collect(),
        min_gap: duration("min_gap", select.min_gap.as_deref(), "20h")?,
        max_reminders: select.max_reminders.unwrap_or(3),
        pay_later_methods: phrases(select.pay_later_methods.as_deref(), PAY_LATER_METHODS),
        bank_transfer_methods: phrases(
            select.bank_transfer_methods.as_deref(),
            BANK_TRANSFER_METHODS,
        ),
        send_before_dispatch: match select.send_before_dispatch.as_deref() {
            None => None,
            Some(text) => Some(window(text).map_err(|m| bad("[select].send_before_dispatch", m))?),
        },
        quiet_hours: match select.quiet_hours.as_deref() {
            None => None,
            Some(text) => Some(quiet_hours(text).map_err(|m| bad("[select].quiet_hours", m))?),
        },
        offers_need_consent: select.offers_need_consent.unwrap_or(true),
    };
    if resolved.min_age > resolved.max_age {
        return Err(bad(
            "[select].min_age",
            "is longer than max_age, so no order could ever be reminded".into(),
        ));
    }
    Ok(resolved)
}

/// A send window: more than nothing, at most a day.
fn window(text: &str) -> Result<TimeDelta, String> {
    let window = parse_duration(text)?;
    if window <= TimeDelta::zero() || window > TimeDelta::days(1) {
        return Err(format!(
            "{text:?} must be more than 0 and at most 24h, like \"1h\""
        ));
    }
    Ok(window)
}

/// `"21:00-08:00"`: start and end of the buyer's night (across midnight when the end is
/// earlier).
fn quiet_hours(text: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let wrong = || format!("{text:?} is not a span of hours; write it like \"21:00-08:00\"");
    let (start, end) = text.split_once('-').ok_or_else(wrong)?;
    let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| wrong());
    let (start, end) = (time(start)?, time(end)?);
    if start == end {
        return Err(wrong());
    }
    Ok((start, end))
}

/// The built-in list and the seller's own additions. Added, never replaced: a seller who lists
/// the shop's own "Pay at pickup" must not lose cash on delivery, whose buyers a reminder
/// would annoy.
fn phrases(own: Option<&[String]>, default: &[&str]) -> Phrases {
    let mut list: Vec<&str> = default.to_vec();
    list.extend(own.unwrap_or_default().iter().map(String::as_str));
    Phrases::new(&list)
}

/// `[[rules]]`, or the built-in ladder when there are none.
pub(super) fn rules(rules: Option<Vec<RuleConfig>>, bad: Bad<'_>) -> Result<Vec<Rule>, Error> {
    match rules {
        None => Ok(ladder::default_rules()),
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, rule)| {
                Rule::from_config(rule).map_err(|m| bad(&format!("[[rules]] #{}", i + 1), m))
            })
            .collect(),
    }
}
