//! Rows to orders: rows with the same order number are one order (Shopify writes the order's
//! fields on the first row only, WooCommerce repeats them on every product row). Rows that
//! disagree about what decides a reminder (status, buyer, time, amount) make the order
//! unreadable: guessing which row is right could remind the wrong person.
//!
//! Every platform writes the rows of one order next to each other, so an order is complete as
//! soon as a row of another order starts ([`Grouping::Adjacent`]): only the order being read is
//! held, and memory does not grow with the file. An export whose orders are scattered is noticed
//! (a finished order number comes back) and read again whole ([`Grouping::Whole`]).

use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::fmt::Display;
use std::hash::BuildHasher;

use super::columns::Columns;
use super::product;
use super::row::Row;
use crate::config::Settings;
use crate::order::{Consent, Field, InvalidRow, Money, Order, StatusClass, Text, buyer_identity};

/// How rows are grouped into orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// The rows of an order are adjacent: an order ends where another begins. An order number
    /// that comes back later is noticed at the end ([`Grouper::scattered`]).
    Adjacent,
    /// Adjacent, as an earlier reading of the same export found, and not checked again: a
    /// later reading compares its fingerprint with the earlier one's instead (sorting every
    /// order number once more cost about 4 % of a run).
    AdjacentAsFound,
    /// Rows of one order may be anywhere: every order is held until the end of the file.
    Whole,
}

/// One order being put together from its rows.
struct Slot {
    order_id: Text,
    /// The first readable row, which later rows fill in and are checked against.
    first: Option<Row>,
    products: Vec<Text>,
    rows: u32,
    /// A row of the order could not be read: the order is kept out.
    poisoned: bool,
}

/// Merges rows into orders by order number, handing on finished orders in the order of their
/// first row.
pub struct Grouper {
    grouping: Grouping,
    /// Whole grouping: open orders by number.
    by_id: FxHashMap<String, usize>,
    /// Open orders (with [`Grouping::Adjacent`], at most one).
    open: Vec<Slot>,
    /// Adjacent grouping: hashes of the order numbers handed on, checked for repeats at the
    /// end (sorting once is far cheaper than a set probed per order). A hash is enough: a
    /// collision only makes the file be read again whole.
    closed: Vec<u64>,
    /// Known at the end: an order number came back after its order was handed on, so the
    /// adjacent grouping was wrong; the file must be read again whole.
    pub scattered: bool,
    /// Finished orders, in the order of their first row.
    pub ready: VecDeque<Order>,
    /// Rows reported since last taken: contradictions and orders missing a required value.
    pub invalid: Vec<InvalidRow>,
}

impl Grouper {
    /// An empty grouper.
    pub fn new(grouping: Grouping) -> Grouper {
        Grouper {
            grouping,
            by_id: FxHashMap::default(),
            open: Vec::new(),
            closed: Vec::new(),
            scattered: false,
            ready: VecDeque::new(),
            invalid: Vec::new(),
        }
    }

    /// The open slot of `order_id`, opening one (and, when adjacent, finishing the others).
    fn slot(&mut self, order_id: &str, settings: &Settings, columns: &Columns) -> &mut Slot {
        match self.grouping {
            Grouping::Adjacent | Grouping::AdjacentAsFound => {
                if self
                    .open
                    .first()
                    .is_some_and(|slot| slot.order_id == order_id)
                {
                    return &mut self.open[0];
                }
                self.flush(settings, columns);
            }
            Grouping::Whole => {
                if let Some(&i) = self.by_id.get(order_id) {
                    return &mut self.open[i];
                }
                self.by_id.insert(order_id.to_owned(), self.open.len());
            }
        }
        self.open.push(Slot {
            // Named by the caller, from the row's own string when it can.
            order_id: Text::default(),
            first: None,
            products: Vec::new(),
            rows: 0,
            poisoned: false,
        });
        self.open.last_mut().expect("just pushed")
    }

    /// Adds a row; a row that contradicts an earlier row of its order is reported in
    /// [`Grouper::invalid`] and keeps the order out.
    pub fn add(
        &mut self,
        mut row: Row,
        settings: &Settings,
        columns: &Columns,
        warnings: &mut Vec<String>,
    ) {
        let slot = self.slot(&row.order_id, settings, columns);
        if slot.order_id.is_empty() {
            slot.order_id = std::mem::take(&mut row.order_id);
        }
        slot.rows += 1;
        if let Some(product) = row.product.take() {
            product::add_lines(&mut slot.products, product, row.quantity.as_deref());
        }
        let Some(first) = slot.first.as_mut() else {
            slot.first = Some(row);
            return;
        };
        let mut hard = Vec::new();
        let mut soft = Vec::new();
        merge(&mut first.buyer_id, row.buyer_id, Field::BuyerId, &mut hard);
        // Addresses and status words match without case everywhere else, so here too.
        merge_by(
            &mut first.email,
            row.email,
            Field::Email,
            &mut hard,
            caseless,
        );
        merge_by(
            &mut first.status_label,
            row.status_label,
            Field::Status,
            &mut hard,
            caseless,
        );
        if first.status.is_none() {
            first.status = row.status;
        }
        merge(
            &mut first.created_at,
            row.created_at,
            Field::CreatedAt,
            &mut hard,
        );
        merge(&mut first.paid_at, row.paid_at, Field::PaidAt, &mut hard);
        merge(&mut first.total, row.total, Field::Total, &mut hard);
        merge(
            &mut first.currency,
            row.currency,
            Field::Currency,
            &mut hard,
        );
        merge(&mut first.channel, row.channel, Field::Channel, &mut hard);
        merge(
            &mut first.prior_paid_orders,
            row.prior_paid_orders,
            Field::PriorPaidOrders,
            &mut hard,
        );
        merge(&mut first.close_at, row.close_at, Field::CloseAt, &mut hard);
        merge_by(
            &mut first.payment_method,
            row.payment_method,
            Field::PaymentMethod,
            &mut hard,
            caseless,
        );
        merge_by(
            &mut first.fulfillment,
            row.fulfillment,
            Field::Fulfillment,
            &mut hard,
            caseless,
        );
        merge(
            &mut first.tracking,
            row.tracking,
            Field::Tracking,
            &mut hard,
        );
        merge(
            &mut first.cancelled_at,
            row.cancelled_at,
            Field::CancelledAt,
            &mut hard,
        );
        merge(
            &mut first.payment_terms,
            row.payment_terms,
            Field::PaymentTerms,
            &mut hard,
        );
        merge(&mut first.tags, row.tags, Field::Tags, &mut hard);
        // Shopify writes consent on the first row only. Rows that disagree: the one that does
        // not say yes wins (nobody is sent an offer on a doubt), with a warning.
        match (first.accepts_marketing.as_ref(), row.accepts_marketing) {
            // The order's first row says nothing, a later one yes: a doubt too (Shopify never
            // writes it so), read as the first row's "nothing".
            (None, Some(later)) if Consent::from_cell(Some(&later)) == Consent::Accepted => {
                warnings.push(format!(
                    "line {}: order {} has {} {later:?}, line {} has none; read as not accepted",
                    row.line,
                    slot.order_id,
                    Field::AcceptsMarketing,
                    first.line
                ));
            }
            (None, later) => first.accepts_marketing = later,
            (Some(earlier), Some(later))
                if Consent::from_cell(Some(earlier)) != Consent::from_cell(Some(&later)) =>
            {
                // One of the two is not a yes: that one is kept.
                let keep_later = Consent::from_cell(Some(earlier)) == Consent::Accepted;
                warnings.push(format!(
                    "line {}: order {} has {} {later:?}, line {} has {earlier:?}; read as not accepted",
                    row.line,
                    slot.order_id,
                    Field::AcceptsMarketing,
                    first.line
                ));
                if keep_later {
                    first.accepts_marketing = Some(later);
                }
            }
            _ => {}
        }
        merge(
            &mut first.buyer_name,
            row.buyer_name,
            Field::BuyerName,
            &mut soft,
        );
        merge(&mut first.country, row.country, Field::Country, &mut soft);
        merge(&mut first.region, row.region, Field::Region, &mut soft);
        merge(
            &mut first.buyer_zone,
            row.buyer_zone,
            Field::BuyerZone,
            &mut soft,
        );
        merge(
            &mut first.language,
            row.language,
            Field::Language,
            &mut soft,
        );
        for (field, earlier, later) in soft {
            warnings.push(format!(
                "line {}: order {} has {field} {later:?}, line {} has {earlier:?}; using line {}'s",
                row.line, slot.order_id, first.line, first.line
            ));
        }
        let Some((field, earlier, later)) = hard.into_iter().next() else {
            return;
        };
        slot.poisoned = true;
        let report = InvalidRow {
            line: row.line,
            column: None,
            order_id: row.order_id.into(),
            buyer: buyer_identity(first.buyer_id.clone(), first.email.as_deref())
                .unwrap_or_default()
                .into(),
            value: later.clone(),
            error: format!(
                "{field} {later:?} contradicts {earlier:?} on line {} of the same order; the order is skipped: fix the export",
                first.line
            ),
        };
        self.invalid.push(report);
    }

    /// Keeps the order out of the result (one of its rows could not be read).
    pub fn poison(&mut self, order_id: &str, settings: &Settings, columns: &Columns) {
        if !order_id.is_empty() {
            let slot = self.slot(order_id, settings, columns);
            if slot.order_id.is_empty() {
                slot.order_id = Text::from(order_id);
            }
            slot.poisoned = true;
        }
    }

    /// Hands on every open order: the file has ended. Finds out whether it was scattered.
    pub fn end(&mut self, settings: &Settings, columns: &Columns) {
        self.flush(settings, columns);
        self.closed.sort_unstable();
        self.scattered = self.closed.windows(2).any(|pair| pair[0] == pair[1]);
        self.closed = Vec::new();
    }

    /// Finishes the open orders into [`Grouper::ready`], in the order of their first row.
    /// Orders missing a status or an order time on every row are reported instead.
    fn flush(&mut self, settings: &Settings, columns: &Columns) {
        self.by_id.clear();
        for slot in self.open.drain(..) {
            if self.grouping == Grouping::Adjacent {
                self.closed.push(hash(&slot.order_id));
            }
            if slot.poisoned {
                continue;
            }
            let Some(row) = slot.first else { continue };
            match finish(
                slot.order_id,
                row,
                slot.products,
                slot.rows,
                settings,
                columns,
            ) {
                Ok(order) => self.ready.push_back(order),
                Err(missing) => self.invalid.push(missing),
            }
        }
    }
}

fn hash(order_id: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(order_id)
}

/// One order from its merged first row, or the report of a required value no row has.
fn finish(
    order_id: Text,
    row: Row,
    products: Vec<Text>,
    rows: u32,
    settings: &Settings,
    columns: &Columns,
) -> Result<Order, InvalidRow> {
    let email = row.email.unwrap_or_default();
    // Neither id nor e-mail: the order is its own buyer (it cannot be told apart).
    let buyer = buyer_identity(row.buyer_id, Some(email.as_str()))
        .unwrap_or_else(|| compact_str::format_compact!("order:{order_id}"));
    let missing = |field: Field| InvalidRow {
        line: row.line,
        column: columns.header(field).map(|(c, _)| c),
        order_id: order_id.to_string(),
        buyer: buyer.to_string(),
        value: String::new(),
        error: format!("{field} is empty on every row of order {order_id}"),
    };
    let (Some(status_label), Some(status)) = (row.status_label, row.status) else {
        return Err(missing(Field::Status));
    };
    // A cancelled order is closed whatever its payment status says: Shopify keeps
    // `authorized` on an order cancelled before capture.
    let status = if row.cancelled_at.is_some() {
        StatusClass::Closed
    } else {
        status
    };
    let Some(created_at) = row.created_at else {
        return Err(missing(Field::CreatedAt));
    };
    let currency = row
        .currency
        .unwrap_or_else(|| Text::from(settings.shop.currency.as_str()));
    Ok(Order {
        line: row.line,
        id: order_id,
        buyer,
        buyer_name: row.buyer_name.unwrap_or_default(),
        email,
        country: row.country.unwrap_or_default(),
        region: row.region.unwrap_or_default(),
        buyer_zone: row.buyer_zone.unwrap_or_default(),
        language: row.language.unwrap_or_default(),
        status_label,
        status,
        created_at,
        paid_at: row.paid_at,
        total: row.total.map(|amount| Money { amount, currency }),
        channel: row.channel.unwrap_or_default(),
        products,
        rows,
        prior_paid_orders: row.prior_paid_orders,
        close_at: row.close_at,
        payment_method: row.payment_method.unwrap_or_default(),
        fulfillment: row.fulfillment.unwrap_or_default(),
        tracked: row.tracking.is_some(),
        payment_terms: row.payment_terms.unwrap_or_default(),
        tags: row.tags.unwrap_or_default(),
        cancelled: row.cancelled_at.is_some(),
        // A consent column with an empty cell is no consent; without the column, the export
        // does not say.
        consent: match columns.header(Field::AcceptsMarketing) {
            None => Consent::NoColumn,
            Some(_) => Consent::from_cell(row.accepts_marketing.as_deref()),
        },
    })
}

fn caseless(a: &Text, b: &Text) -> bool {
    // The rows of an order nearly always repeat the value exactly.
    a == b || a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Fills an empty order field from a later row; notes the field and both values when both rows
/// have one and they differ.
fn merge<T: PartialEq + Display>(
    first: &mut Option<T>,
    later: Option<T>,
    field: Field,
    conflicts: &mut Vec<(Field, String, String)>,
) {
    merge_by(first, later, field, conflicts, |a, b| a == b);
}

/// [`merge`] with its own idea of "the same value".
fn merge_by<T: Display>(
    first: &mut Option<T>,
    later: Option<T>,
    field: Field,
    conflicts: &mut Vec<(Field, String, String)>,
    same: fn(&T, &T) -> bool,
) {
    match (first.as_ref(), later) {
        (None, later) => *first = later,
        (Some(a), Some(b)) if !same(a, &b) => {
            conflicts.push((field, a.to_string(), b.to_string()));
        }
        _ => {}
    }
}
