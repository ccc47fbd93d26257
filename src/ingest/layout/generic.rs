//! The generic layout: headers named like payremind's fields (`order_id`, `status`, …), or
//! whatever `[columns]` maps; status words in plain English.

use super::Preset;
use crate::order::Field;

/// Each field's own name as its header.
pub static PRESET: Preset = Preset {
    name: "generic",
    description: "generic CSV (headers mapped by [columns], or named like payremind's fields)",
    signature: &[],
    columns: &[
        (Field::OrderId, &["order_id"]),
        (Field::BuyerId, &["buyer_id"]),
        (Field::BuyerName, &["buyer_name"]),
        (Field::Email, &["email"]),
        (Field::Country, &["country"]),
        (Field::Status, &["status"]),
        (Field::CreatedAt, &["created_at"]),
        (Field::PaidAt, &["paid_at"]),
        (Field::Total, &["total"]),
        (Field::Currency, &["currency"]),
        (Field::Channel, &["channel"]),
        (Field::Product, &["product"]),
        (Field::PriorPaidOrders, &["prior_paid_orders"]),
        (Field::CloseAt, &["close_at"]),
        (Field::PaymentMethod, &["payment_method"]),
        (Field::Fulfillment, &["fulfillment"]),
        (Field::Tracking, &["tracking"]),
        (Field::CancelledAt, &["cancelled_at"]),
        (Field::PaymentTerms, &["payment_terms"]),
        (Field::PaymentDueAt, &["payment_due_at"]),
        (Field::Tags, &["tags"]),
        (Field::Quantity, &["quantity"]),
        (Field::Region, &["region"]),
        (Field::BuyerZone, &["buyer_zone"]),
        (Field::Language, &["language"]),
        (Field::Language, &["locale"]),
        (Field::Language, &["customer_language"]),
        (Field::Language, &["customer_locale"]),
        (Field::Language, &["buyer_language"]),
        (Field::Language, &["lang"]),
        (Field::AcceptsMarketing, &["accepts_marketing"]),
    ],
    unpaid: &["unpaid", "pending"],
    paid: &["paid"],
    closed: &["closed", "cancelled", "canceled"],
    currency: None,
    zone_hint: None,
    language: None,
};
