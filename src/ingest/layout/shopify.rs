//! Shopify admin "Export orders": one row per line item, the order's fields only on its first
//! row; times in the store's zone with a numeric offset. There is no buyer id column: buyers are
//! known by their e-mail.

use super::Preset;
use crate::order::Field;

/// Shopify's current 79-column export (the 75-column one of 2021 maps the same way).
pub static PRESET: Preset = Preset {
    name: "shopify",
    description: "Shopify admin order export",
    signature: &["Name", "Financial Status", "Lineitem name"],
    columns: &[
        (Field::OrderId, &["Name"]),
        (Field::Email, &["Email"]),
        (Field::BuyerName, &["Billing Name"]),
        (Field::Country, &["Billing Country"]),
        (Field::Status, &["Financial Status"]),
        (Field::CreatedAt, &["Created at"]),
        (Field::PaidAt, &["Paid at"]),
        (Field::Total, &["Total"]),
        (Field::Currency, &["Currency"]),
        (Field::Channel, &["Source"]),
        (Field::Product, &["Lineitem name"]),
        (Field::Quantity, &["Lineitem quantity"]),
        (Field::Region, &["Billing Province"]),
        (Field::PaymentMethod, &["Payment Method"]),
        // Newer exports name the gateways instead.
        (Field::PaymentMethod, &["Payment Gateway Names"]),
        (Field::Fulfillment, &["Fulfillment Status"]),
        (Field::CancelledAt, &["Cancelled at"]),
        (Field::PaymentTerms, &["Payment Terms Name"]),
        (Field::PaymentDueAt, &["Next Payment Due At"]),
        (Field::Tags, &["Tags"]),
        // `yes`/`no` on the order's first row; exports of the customer list name it
        // `Accepts Email Marketing`.
        (Field::AcceptsMarketing, &["Accepts Marketing"]),
        (Field::AcceptsMarketing, &["Accepts Email Marketing"]),
    ],
    // `pending` is also cash on delivery, manual payments and payment terms: the payment
    // method, fulfilment and terms columns keep those out (`pay_later`, `already_shipped`,
    // `payment_terms`).
    unpaid: &["pending"],
    // `authorized`: the card is validated, the buyer has paid as far as they know.
    paid: &["paid", "authorized", "partially_paid", "partially_refunded"],
    closed: &["voided", "refunded", "expired"],
    currency: None,
    zone_hint: Some(
        "Shopify times carry their offset; set your store's zone (Settings > General) for the calendar day.",
    ),
    language: None,
};
