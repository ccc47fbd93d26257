//! One CSV record to one typed [`Row`], or to an [`InvalidRow`] that says which cell is wrong
//! and what to do about it. Continuation rows of multi-row orders leave order fields empty:
//! empty is `None`, never an error.

use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::columns::Columns;
use super::layout::Mapping;
use super::value::DateOrder;
use super::{Detail, value};
use crate::order::{Field, InvalidRow, StatusClass, StoreTime, Text, buyer_identity};

/// One row's values, parsed; `None` = empty cell.
#[derive(Debug)]
pub struct Row {
    pub line: u64,
    pub order_id: Text,
    pub buyer_id: Option<Text>,
    pub buyer_name: Option<Text>,
    pub email: Option<Text>,
    pub country: Option<Text>,
    pub region: Option<Text>,
    pub buyer_zone: Option<Text>,
    pub language: Option<Text>,
    pub status_label: Option<Text>,
    pub status: Option<StatusClass>,
    pub created_at: Option<StoreTime>,
    pub paid_at: Option<StoreTime>,
    pub total: Option<Decimal>,
    pub currency: Option<Text>,
    pub channel: Option<Text>,
    pub product: Option<Text>,
    /// The quantity of the row's product, as written.
    pub quantity: Option<Text>,
    pub prior_paid_orders: Option<u32>,
    pub close_at: Option<StoreTime>,
    pub payment_method: Option<Text>,
    pub fulfillment: Option<Text>,
    /// A ship time or tracking number, as written (a "nothing" word like `null` is empty).
    pub tracking: Option<Text>,
    /// The cancellation time as written: any value cancels (it is not parsed, so a date in a
    /// format of its own never makes a row unreadable).
    pub cancelled_at: Option<Text>,
    /// Payment terms: the terms' name, else the next payment's due date, as written.
    pub payment_terms: Option<Text>,
    pub tags: Option<Text>,
    /// The consent cell as written (`Accepts Marketing`).
    pub accepts_marketing: Option<Text>,
}

/// The buyer a row belongs to ([`buyer_identity`]), as far as it can be read: empty when
/// neither the buyer id nor the e-mail is there.
#[must_use]
pub fn buyer_of(record: &csv::StringRecord, columns: &Columns) -> String {
    let id = columns
        .get(record, Field::BuyerId)
        .map(|id| Text::from(id.as_ref()));
    let email = columns.get(record, Field::Email);
    buyer_identity(id, email.as_deref())
        .map(String::from)
        .unwrap_or_default()
}

/// Parses one record.
///
/// # Errors
/// The first cell that cannot be read, with its column.
pub fn parse(
    record: &csv::StringRecord,
    line: u64,
    columns: &Columns,
    mapping: &Mapping,
    zone: Tz,
    year_last: &dyn Fn() -> Result<DateOrder, String>,
    detail: Detail,
) -> Result<Row, Box<InvalidRow>> {
    let order_id = columns.order_id(record);
    let cells = Cells {
        record,
        columns,
        line,
        order_id: &order_id,
    };
    if order_id.is_empty() {
        return Err(cells.invalid(
            Field::OrderId,
            "",
            "is empty; every row needs its order number",
        ));
    }
    for field in [Field::OrderId, Field::BuyerId] {
        if let Some(v) = cells
            .text(field)
            .filter(|v| value::is_excel_mangled_number(v))
        {
            return Err(cells.invalid(
                field,
                &v,
                "was turned into a number by Excel and its digits are lost; download the export again and do not open and save it in Excel",
            ));
        }
    }
    let status = cells.parse(Field::Status, |label| {
        mapping.status_class(label).ok_or_else(|| {
            format!("{label:?} is not listed in [statuses]; add it to unpaid, paid or closed in the config")
        })
    })?;
    let time = |v: &str| value::parse_time_ordered(v, zone, year_last);
    // Cells come trimmed (see `Columns::get`).
    let owned = |field| cells.text(field).map(|v| Text::from(v.as_ref()));
    // A cell whose mere presence decides (a cancellation, terms, a tracking number): the
    // words exports and databases write for "nothing" are nothing.
    let set = |field| owned(field).filter(|v| !value::is_nothing(v));
    // What is only shown (never checked, never decided on) is left out when not wanted.
    let shown = |field| {
        (detail == Detail::Full)
            .then(|| cells.text(field))
            .flatten()
    };
    Ok(Row {
        line,
        buyer_id: owned(Field::BuyerId),
        buyer_name: shown(Field::BuyerName).map(|n| one_line(&n)),
        email: owned(Field::Email),
        country: shown(Field::Country).map(|c| Text::from(c.as_ref())),
        region: shown(Field::Region).map(|c| Text::from(c.as_ref())),
        buyer_zone: shown(Field::BuyerZone).map(|c| Text::from(c.as_ref())),
        language: shown(Field::Language).map(|c| Text::from(c.as_ref())),
        status_label: owned(Field::Status),
        status,
        created_at: cells.parse(Field::CreatedAt, time)?,
        paid_at: cells.parse(Field::PaidAt, time)?,
        total: cells.parse(Field::Total, value::parse_money)?,
        currency: cells.text(Field::Currency).map(|c| upper_case(&c)),
        channel: owned(Field::Channel),
        product: shown(Field::Product).map(|p| Text::from(p.as_ref())),
        quantity: shown(Field::Quantity).map(|q| Text::from(q.as_ref())),
        prior_paid_orders: cells.parse(Field::PriorPaidOrders, value::parse_count)?,
        close_at: cells.parse(Field::CloseAt, time)?,
        payment_method: owned(Field::PaymentMethod),
        fulfillment: owned(Field::Fulfillment),
        tracking: set(Field::Tracking),
        cancelled_at: set(Field::CancelledAt),
        payment_terms: set(Field::PaymentTerms).or_else(|| set(Field::PaymentDueAt)),
        tags: owned(Field::Tags),
        accepts_marketing: owned(Field::AcceptsMarketing),
        order_id,
    })
}

/// A currency code in capitals; most are already.
fn upper_case(code: &str) -> Text {
    if code
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_lowercase())
    {
        Text::from(code)
    } else {
        Text::from_str_to_uppercase(code)
    }
}

/// A name as one line: line breaks and control characters become spaces, runs of spaces one.
fn one_line(text: &str) -> Text {
    let text = value::trim(text);
    let clean = !text
        .chars()
        .any(|c| c.is_control() || (c.is_whitespace() && c != ' '))
        && !text.contains("  ");
    if clean {
        // Nearly every name: one copy, no splitting.
        return Text::from(text);
    }
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .into()
}

/// One record's cells, with what a bad cell's report needs.
struct Cells<'r> {
    record: &'r csv::StringRecord,
    columns: &'r Columns,
    line: u64,
    order_id: &'r str,
}

impl<'r> Cells<'r> {
    fn text(&self, field: Field) -> Option<std::borrow::Cow<'r, str>> {
        self.columns.get(self.record, field)
    }

    /// The parsed cell; `None` when empty or unmapped.
    fn parse<T>(
        &self,
        field: Field,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Box<InvalidRow>> {
        self.text(field)
            .map(|v| parse(&v).map_err(|e| self.invalid(field, &v, &e)))
            .transpose()
    }

    fn invalid(&self, field: Field, value: &str, error: &str) -> Box<InvalidRow> {
        Box::new(InvalidRow {
            line: self.line,
            column: self.columns.header(field).map(|(c, _)| c),
            order_id: self.order_id.to_owned(),
            buyer: buyer_of(self.record, self.columns),
            value: value.to_owned(),
            error: format!("{field} {error}"),
        })
    }
}
