//! Rows to orders: rows with the same order number are one order (Shopify writes the order's
//! fields on the first row only, WooCommerce repeats them on every product row). Rows that
//! disagree about what decides a reminder (status, buyer, time, amount) make the order
//! unreadable: guessing which row is right could remind the wrong person.

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Display;

use super::InvalidRow;
use super::columns::Columns;
use super::row::Row;
use crate::config::Settings;
use crate::order::{Field, Money, Order};

/// Merges rows into orders by order number, keeping the order of first appearance.
#[derive(Default)]
pub struct Grouper {
    by_id: FxHashMap<String, usize>,
    first: Vec<Row>,
    products: Vec<Vec<String>>,
    rows: Vec<u32>,
    poisoned: FxHashSet<String>,
}

impl Grouper {
    /// Adds a row; returns the report when it contradicts an earlier row of its order.
    pub fn add(&mut self, row: Row, warnings: &mut Vec<String>) -> Option<InvalidRow> {
        let Some(&i) = self.by_id.get(&row.order_id) else {
            self.by_id.insert(row.order_id.clone(), self.first.len());
            self.products
                .push(row.product.clone().into_iter().collect());
            self.rows.push(1);
            self.first.push(row);
            return None;
        };
        self.rows[i] += 1;
        if let Some(product) = row.product.clone() {
            self.products[i].push(product);
        }
        let first = &mut self.first[i];
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
        merge(
            &mut first.buyer_name,
            row.buyer_name,
            Field::BuyerName,
            &mut soft,
        );
        merge(&mut first.country, row.country, Field::Country, &mut soft);
        for (field, earlier, later) in soft {
            warnings.push(format!(
                "line {}: order {} has {field} {later:?}, line {} has {earlier:?}; using line {}'s",
                row.line, first.order_id, first.line, first.line
            ));
        }
        let (field, earlier, later) = hard.into_iter().next()?;
        self.poisoned.insert(row.order_id.clone());
        Some(InvalidRow {
            line: row.line,
            column: None,
            order_id: row.order_id,
            buyer: first
                .buyer_id
                .clone()
                .or_else(|| first.email.as_ref().map(|e| e.to_lowercase()))
                .unwrap_or_default(),
            value: later.clone(),
            error: format!(
                "{field} {later:?} contradicts {earlier:?} on line {} of the same order; the order is skipped: fix the export",
                first.line
            ),
        })
    }

    /// Keeps the order out of the result (one of its rows could not be read).
    pub fn poison(&mut self, order_id: &str) {
        self.poisoned.insert(order_id.to_owned());
    }

    /// The orders, in the order of their first row. Orders missing a status or an order time
    /// on every row are reported instead.
    pub fn finish(
        self,
        settings: &Settings,
        columns: &Columns,
        invalid: &mut Vec<InvalidRow>,
    ) -> Vec<Order> {
        let mut orders = Vec::with_capacity(self.first.len());
        let merged = self.first.into_iter().zip(self.products).zip(self.rows);
        for ((row, products), rows) in merged {
            if self.poisoned.contains(&row.order_id) {
                continue;
            }
            let email = row.email.unwrap_or_default();
            let buyer = match row.buyer_id {
                Some(id) => id,
                None if !email.is_empty() => email.to_lowercase(),
                None => format!("order:{}", row.order_id),
            };
            let missing = |field: Field| InvalidRow {
                line: row.line,
                column: columns.header(field).map(|(c, _)| c),
                order_id: row.order_id.clone(),
                buyer: buyer.clone(),
                value: String::new(),
                error: format!("{field} is empty on every row of order {}", row.order_id),
            };
            let (Some(status_label), Some(status)) = (row.status_label, row.status) else {
                invalid.push(missing(Field::Status));
                continue;
            };
            let Some(created_at) = row.created_at else {
                invalid.push(missing(Field::CreatedAt));
                continue;
            };
            let currency = row
                .currency
                .unwrap_or_else(|| settings.shop.currency.clone());
            orders.push(Order {
                line: row.line,
                id: row.order_id,
                buyer,
                buyer_name: row.buyer_name.unwrap_or_default(),
                email,
                country: row.country.unwrap_or_default(),
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
            });
        }
        orders
    }
}

#[allow(clippy::ptr_arg)] // `merge_by` compares the field's own type.
fn caseless(a: &String, b: &String) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
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
