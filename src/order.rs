//! The shared domain types every stage speaks: an [`Order`] as ingest builds it, its payment
//! [`StatusClass`], the buyer's [`BuyerType`] and exact [`Money`].
//!
//! Times are always zoned ([`StoreTime`]): an export's naive timestamps are read in the store's
//! zone, explicit offsets are converted to it, so "the same calendar day" means the store's day.

use std::fmt;

use chrono::{DateTime, FixedOffset, TimeDelta};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Text of an order (ids, labels, names, codes). Up to 24 bytes are kept inline, which covers
/// nearly every order number, buyer id, status, currency, country and channel: an order costs
/// one or two allocations instead of about ten, which is most of the time a big export takes
/// to read. It reads like a `&str` (`Deref`) and serializes as a string.
pub type Text = compact_str::CompactString;

/// An instant, with the store zone's offset at that instant: 16 bytes where a
/// `DateTime<chrono_tz::Tz>` takes 48, which counts three times per order on a big export.
/// Local dates and times (the store's calendar day) read the same.
pub type StoreTime = DateTime<FixedOffset>;

/// What an export's status label means for a reminder: the only three things payremind needs to
/// know about the dozens of platform statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusClass {
    /// Placed, not paid: the only class that may be reminded.
    Unpaid,
    /// Paid, authorised or being processed: the buyer has done their part.
    Paid,
    /// Cancelled, voided, refunded or timed out: nothing left to pay.
    Closed,
}

impl StatusClass {
    /// The class's name, as `[statuses]` writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Unpaid => "unpaid",
            StatusClass::Paid => "paid",
            StatusClass::Closed => "closed",
        }
    }
}

/// How well the shop knows the buyer, which decides the tone of a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuyerType {
    /// No earlier paid order: help first, with the payment link.
    New,
    /// Exactly one earlier paid order: remind only with something to offer.
    Returning,
    /// Two or more earlier paid orders: show that the shop knows them.
    Loyal,
}

impl BuyerType {
    /// The type for a buyer with `prior_paid` earlier paid orders.
    #[must_use]
    pub fn from_prior_paid(prior_paid: u32) -> Self {
        match prior_paid {
            0 => Self::New,
            1 => Self::Returning,
            _ => Self::Loyal,
        }
    }

    /// The name used in config rules, JSON and templates.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Returning => "returning",
            Self::Loyal => "loyal",
        }
    }
}

impl fmt::Display for BuyerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact amount with its currency: never a float, so `19.99` stays `19.99`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Money {
    /// The amount as written in the export, scale preserved.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO code (`USD`, `CNY`), from the export's currency column or `[shop].currency`.
    pub currency: Text,
}

impl Money {
    /// The amount after taking `percent` off, rounded to the currency's usual two decimals
    /// (banker's rounding would surprise a buyer, so halves round up).
    #[must_use]
    pub fn discounted(&self, percent: Decimal) -> Money {
        let factor = (Decimal::ONE_HUNDRED - percent) / Decimal::ONE_HUNDRED;
        let dp = self.amount.scale().max(2);
        let amount = (self.amount * factor)
            .round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        Money {
            amount,
            currency: self.currency.clone(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.currency.is_empty() {
            write!(f, "{}", self.amount)
        } else {
            write!(f, "{} {}", self.amount, self.currency)
        }
    }
}

/// One order of the export, its rows merged: what every later stage decides on.
#[derive(Debug, Clone)]
pub struct Order {
    /// Line of the order's first row in the export (1 = the header line).
    pub line: u64,
    /// The order number exactly as exported (kept as text: 19-digit ids do not fit a float).
    pub id: Text,
    /// Who the buyer is for every per-buyer rule: the buyer id, else the lower-cased email,
    /// else the order itself (a buyer nobody can recognise is nobody else).
    pub buyer: Text,
    /// The buyer's name as the export spells it; may be empty.
    pub buyer_name: Text,
    /// The contact column as exported (may be empty, masked or a phone number).
    pub email: Text,
    /// Buyer country as exported; may be empty.
    pub country: Text,
    /// The buyer's state or province as exported (`CA`, `California`); may be empty. It
    /// settles the zone of a country with several.
    pub region: Text,
    /// The buyer's time zone as exported (an IANA name or a UTC offset); may be empty.
    pub buyer_zone: Text,
    /// The buyer's language as exported (a tag like `pt-BR`, or a name like `中文`); may be
    /// empty.
    pub language: Text,
    /// The status label as exported.
    pub status_label: Text,
    /// What the status means for a reminder.
    pub status: StatusClass,
    /// When the order was placed.
    pub created_at: StoreTime,
    /// When it was paid, if the export says.
    pub paid_at: Option<StoreTime>,
    /// The order total, if the export has one.
    pub total: Option<Money>,
    /// Sales channel / source as exported; may be empty.
    pub channel: Text,
    /// Every product line of the order, in export order.
    pub products: Vec<Text>,
    /// How many rows of the export the order spans.
    pub rows: u32,
    /// Paid orders the buyer had before this one, when the export carries that count.
    pub prior_paid_orders: Option<u32>,
    /// When the platform closes the order if it stays unpaid (flash sales).
    pub close_at: Option<StoreTime>,
    /// How the buyer chose to pay, as exported (`Cash on Delivery (COD)`, `Direct bank
    /// transfer`, `货到付款`); may be empty.
    pub payment_method: Text,
    /// The fulfilment (shipping) state as exported, a word (`fulfilled`, `unfulfilled`); may
    /// be empty.
    pub fulfillment: Text,
    /// The export has a ship time or a tracking number for the order: it has left.
    pub tracked: bool,
    /// B2B payment terms as exported (`Net 30`, or the next payment's due date); may be empty.
    pub payment_terms: Text,
    /// The export's tags, as one cell (Shopify `Tags`); may be empty.
    pub tags: Text,
    /// The export says the order was cancelled (`Cancelled at` is set): it is closed whatever
    /// its payment status says.
    pub cancelled: bool,
    /// Whether the buyer accepts marketing, as the export says (Shopify `Accepts Marketing`):
    /// an offer (a discount, a perk, a promotion) goes only to a buyer who did.
    pub consent: Consent,
}

/// Whether the buyer accepts marketing, as the export's consent column says. A reminder about
/// the buyer's own unpaid order is service and goes either way; an offer in it is marketing
/// and needs consent ([`Consent::allows_offers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// The export has no consent column: offers go as before (whether the shop may send
    /// them is the seller's responsibility).
    #[default]
    NoColumn,
    /// The buyer accepted (`yes`, `true`, `1`, `subscribed`, `是`...).
    Accepted,
    /// The buyer did not (`no`, `false`, `0`, `unsubscribed`, `否`...).
    Declined,
    /// The column is there, the cell is empty: not accepted (nobody said yes).
    Blank,
    /// The column is there, the cell holds a word payremind does not know: not accepted.
    Unreadable,
}

impl Consent {
    /// The consent a cell of the consent column gives (`None`: an empty cell).
    #[must_use]
    pub fn from_cell(cell: Option<&str>) -> Consent {
        match cell.map(str::trim).filter(|c| !c.is_empty()) {
            None => Consent::Blank,
            Some(cell) => match accepts_marketing(cell) {
                Some(true) => Consent::Accepted,
                Some(false) => Consent::Declined,
                None => Consent::Unreadable,
            },
        }
    }

    /// Whether an offer may go to the buyer: they accepted, or the export does not say.
    #[must_use]
    pub fn allows_offers(self) -> bool {
        matches!(self, Consent::NoColumn | Consent::Accepted)
    }

    /// The name shown by `check` and in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::NoColumn => "no_column",
            Consent::Accepted => "accepted",
            Consent::Declined => "declined",
            Consent::Blank => "blank",
            Consent::Unreadable => "unreadable",
        }
    }
}

/// What a consent cell says: `Some(true)` accepted, `Some(false)` not, `None` a word
/// payremind does not know. Compared as labels are (trimmed, without case), with `-` and
/// spaces read as `_` (`opted-in`, `Opted In`, `opted_in`).
#[must_use]
pub fn accepts_marketing(cell: &str) -> Option<bool> {
    const YES: &[&str] = &[
        "yes",
        "y",
        "true",
        "t",
        "1",
        "on",
        "x",
        "accepted",
        "accepts",
        "accept",
        "subscribed",
        "opted_in",
        "opt_in",
        "optin",
        "granted",
        "confirmed",
        "allowed",
        "是",
        "接受",
        "同意",
        "已订阅",
        "sí",
        "si",
        "sim",
        "oui",
        "ja",
        "да",
    ];
    const NO: &[&str] = &[
        "no",
        "n",
        "false",
        "f",
        "0",
        "off",
        "declined",
        "rejected",
        "denied",
        "unsubscribed",
        "not_subscribed",
        "never_subscribed",
        "opted_out",
        "opt_out",
        "optout",
        "pending",
        "revoked",
        "withdrawn",
        "invalid",
        "redacted",
        "cleaned",
        "bounced",
        "none",
        "null",
        "否",
        "不接受",
        "不同意",
        "未订阅",
        "已退订",
        "não",
        "nao",
        "non",
        "nein",
        "нет",
    ];
    let word: String = crate::units::normalize_label(cell)
        .chars()
        .map(|c| if c == '-' || c == ' ' { '_' } else { c })
        .collect();
    if YES.contains(&word.as_str()) {
        Some(true)
    } else if NO.contains(&word.as_str()) {
        Some(false)
    } else {
        None
    }
}

impl Order {
    /// How long the order has waited at `now`.
    #[must_use]
    pub fn age(&self, now: DateTime<chrono::Utc>) -> TimeDelta {
        now.signed_duration_since(self.created_at)
    }
}

/// Hours as a JSON-friendly number, cut (not rounded) to two decimals so 1 h 59 min 59 s never
/// shows as 2.0 beside `too_recent` (ages are not money: a float is fine).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn hours(delta: TimeDelta) -> f64 {
    (delta.num_seconds() as f64 / 36.0).floor() / 100.0
}

/// Who a buyer is, for every per-buyer rule (one message per buyer, paid the same day, a later
/// order) and for the ledger: the export's buyer id when it has one, else the e-mail address
/// in lower case (Excel and checkout forms change the case of the same address). `None` when
/// the row has neither. The one place a buyer's identity is made.
#[must_use]
pub fn buyer_identity(buyer_id: Option<Text>, email: Option<&str>) -> Option<Text> {
    match buyer_id {
        Some(id) => Some(id),
        None => email.filter(|e| !e.is_empty()).map(lower_case),
    }
}

/// An address in lower case; most are already. Lower-cased as `str::to_lowercase` does, as
/// everywhere else a buyer is named (compact_str's own `to_lowercase` can pick another final
/// sigma).
fn lower_case(text: &str) -> Text {
    if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        Text::from(text)
    } else {
        Text::from(text.to_lowercase())
    }
}

/// A row that could not be read: where, which cell, and why.
#[derive(Debug, Clone)]
pub struct InvalidRow {
    /// Line of the record in the file (1 = header).
    pub line: u64,
    /// 1-based column of the bad cell, when one cell is to blame.
    pub column: Option<usize>,
    /// The order number on the row, if it could be read.
    pub order_id: String,
    /// The buyer of the row (buyer id, else lower-cased e-mail), if it could be read: the
    /// buyer's other orders stay quiet, since this one may be paid.
    pub buyer: String,
    /// The bad value as written.
    pub value: String,
    /// What is wrong with it, and what to do.
    pub error: String,
}

/// A bad row as one line a seller can act on: `file:line:column: "value": what to do`.
#[must_use]
pub fn describe_bad_row(
    file: &str,
    line: u64,
    column: Option<usize>,
    value: &str,
    error: &str,
) -> String {
    let column = column.map(|c| format!(":{c}")).unwrap_or_default();
    let value = if value.is_empty() {
        String::new()
    } else {
        format!("{value:?}: ")
    };
    format!("{file}:{line}{column}: {value}{error}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn discount_is_exact_and_rounds_half_up() {
        let m = Money {
            amount: Decimal::from_str("128.00").unwrap(),
            currency: "USD".into(),
        };
        assert_eq!(m.discounted(Decimal::from(3)).to_string(), "124.16 USD");
        let m = Money {
            amount: Decimal::from_str("0.50").unwrap(),
            currency: "EUR".into(),
        };
        // 0.485 rounds away from zero.
        assert_eq!(m.discounted(Decimal::from(3)).to_string(), "0.49 EUR");
    }

    #[test]
    fn a_buyer_is_lower_cased_as_everywhere_else() {
        // compact_str lower-cases the ASCII before a final sigma in blocks and then picks σ;
        // std (used for bad rows' buyers and in the ledger) picks ς.
        for address in [
            "ABCDEFGHIJKLMNOPΣ@example.com",
            "ΟΔΥΣΣΕΥΣ@example.com",
            "Chen.Wei@Example.COM",
            "already@lower.case",
        ] {
            assert_eq!(
                buyer_identity(None, Some(address)).unwrap().as_str(),
                address.to_lowercase(),
                "{address}"
            );
        }
        assert_eq!(
            buyer_identity(Some("B7".into()), Some("X@Y.Z")).unwrap(),
            "B7"
        );
        assert_eq!(buyer_identity(None, Some("")), None);
    }

    #[test]
    fn consent_cells_read_as_sellers_write_them() {
        for yes in [
            "yes",
            "Yes",
            " TRUE ",
            "1",
            "是",
            "subscribed",
            "opted-in",
            "Opted In",
        ] {
            assert_eq!(Consent::from_cell(Some(yes)), Consent::Accepted, "{yes}");
        }
        for no in [
            "no",
            "No",
            "false",
            "0",
            "否",
            "unsubscribed",
            "NOT_SUBSCRIBED",
            "opted_out",
        ] {
            assert_eq!(Consent::from_cell(Some(no)), Consent::Declined, "{no}");
        }
        assert_eq!(Consent::from_cell(Some("  ")), Consent::Blank);
        assert_eq!(Consent::from_cell(None), Consent::Blank);
        assert_eq!(Consent::from_cell(Some("maybe")), Consent::Unreadable);
        assert!(Consent::NoColumn.allows_offers() && Consent::Accepted.allows_offers());
        for not in [Consent::Declined, Consent::Blank, Consent::Unreadable] {
            assert!(!not.allows_offers(), "{not:?}");
        }
    }

    #[test]
    fn buyer_type_counts_earlier_paid_orders() {
        assert_eq!(BuyerType::from_prior_paid(0), BuyerType::New);
        assert_eq!(BuyerType::from_prior_paid(1), BuyerType::Returning);
        assert_eq!(BuyerType::from_prior_paid(2), BuyerType::Loyal);
        assert_eq!(BuyerType::from_prior_paid(40), BuyerType::Loyal);
    }
}

/// The canonical fields payremind reads from an export; `[columns]` maps each to a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The order number (required).
    OrderId,
    /// The buyer's account id; identity falls back to the email when empty.
    BuyerId,
    /// The name to greet.
    BuyerName,
    /// The e-mail address reminders go to.
    Email,
    /// The buyer's country.
    Country,
    /// The order status label (required).
    Status,
    /// When the order was placed (required).
    CreatedAt,
    /// When it was paid.
    PaidAt,
    /// The order total.
    Total,
    /// The total's currency.
    Currency,
    /// The sales channel or source (distribution orders are dropped by it).
    Channel,
    /// A product line.
    Product,
    /// How many paid orders the buyer had before.
    PriorPaidOrders,
    /// When the platform auto-closes the unpaid order.
    CloseAt,
    /// How the buyer chose to pay (cash on delivery, bank transfer, card...).
    PaymentMethod,
    /// The fulfilment (shipping) state, a word: `fulfilled`, `partial`, `shipped`...
    Fulfillment,
    /// A ship time or a tracking number: any value means the parcel left.
    Tracking,
    /// When the order was cancelled: any value closes the order.
    CancelledAt,
    /// B2B payment terms (`Net 30`): the buyer pays later, by agreement.
    PaymentTerms,
    /// When the next payment under payment terms is due: any value means terms.
    PaymentDueAt,
    /// The order's tags (one cell, comma-separated).
    Tags,
    /// How many of the row's product were ordered.
    Quantity,
    /// The buyer's state or province: settles the zone of a country with several.
    Region,
    /// The buyer's time zone: an IANA name (`America/Chicago`) or a UTC offset (`-05:00`).
    BuyerZone,
    /// The buyer's language (`zh-CN`, `pt_BR`, `Deutsch`): the reminder's language.
    Language,
    /// Whether the buyer accepts marketing (`yes`/`no`): offers need it.
    AcceptsMarketing,
}

impl Field {
    /// Every field, in the order `[columns]` documents them.
    pub const ALL: [Field; 26] = [
        Field::OrderId,
        Field::BuyerId,
        Field::BuyerName,
        Field::Email,
        Field::Country,
        Field::Status,
        Field::CreatedAt,
        Field::PaidAt,
        Field::Total,
        Field::Currency,
        Field::Channel,
        Field::Product,
        Field::PriorPaidOrders,
        Field::CloseAt,
        Field::PaymentMethod,
        Field::Fulfillment,
        Field::Tracking,
        Field::CancelledAt,
        Field::PaymentTerms,
        Field::PaymentDueAt,
        Field::Tags,
        Field::Quantity,
        Field::Region,
        Field::BuyerZone,
        Field::Language,
        Field::AcceptsMarketing,
    ];

    /// The `[columns]` key, which is also the header a generic export uses.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Field::OrderId => "order_id",
            Field::BuyerId => "buyer_id",
            Field::BuyerName => "buyer_name",
            Field::Email => "email",
            Field::Country => "country",
            Field::Status => "status",
            Field::CreatedAt => "created_at",
            Field::PaidAt => "paid_at",
            Field::Total => "total",
            Field::Currency => "currency",
            Field::Channel => "channel",
            Field::Product => "product",
            Field::PriorPaidOrders => "prior_paid_orders",
            Field::CloseAt => "close_at",
            Field::PaymentMethod => "payment_method",
            Field::Fulfillment => "fulfillment",
            Field::Tracking => "tracking",
            Field::CancelledAt => "cancelled_at",
            Field::PaymentTerms => "payment_terms",
            Field::PaymentDueAt => "payment_due_at",
            Field::Tags => "tags",
            Field::Quantity => "quantity",
            Field::Region => "region",
            Field::BuyerZone => "buyer_zone",
            Field::Language => "language",
            Field::AcceptsMarketing => "accepts_marketing",
        }
    }

    /// Whether an export without this column cannot be used at all.
    #[must_use]
    pub fn required(self) -> bool {
        matches!(self, Field::OrderId | Field::Status | Field::CreatedAt)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
