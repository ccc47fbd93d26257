//! WooCommerce through the Advanced Order Export plugin, default fields: one row per product
//! with the order's fields repeated, `Y-m-d H:i` times in the site's zone, status as label or
//! slug depending on the plugin's settings. Recognised by the order columns alone (`Order
//! Number`, `Order Status`, `Order Date`): sellers choose their own fields.

use super::Preset;
use crate::order::Field;

/// The plugin's default field set.
pub static PRESET: Preset = Preset {
    name: "woocommerce",
    description: "WooCommerce (Advanced Order Export, default fields)",
    // The order columns alone: a seller's own field selection may leave out the e-mail.
    signature: &["Order Number", "Order Status", "Order Date"],
    columns: &[
        (Field::OrderId, &["Order Number"]),
        (Field::Status, &["Order Status"]),
        (Field::CreatedAt, &["Order Date"]),
        (Field::Email, &["Email (Billing)"]),
        // A field selection without the billing e-mail: the customer account's.
        (Field::Email, &["Customer User Email"]),
        (
            Field::BuyerName,
            &["First Name (Billing)", "Last Name (Billing)"],
        ),
        (Field::Country, &["Country Code (Billing)"]),
        (Field::Total, &["Order Total Amount"]),
        (Field::Product, &["Name"]),
        (Field::Quantity, &["Quantity"]),
        (Field::Region, &["State Code (Billing)"]),
        (Field::PaymentMethod, &["Payment Method Title"]),
        (Field::PaymentMethod, &["Payment Method"]),
        // Core WooCommerce keeps no consent; the plugin's order meta fields export under their
        // key: Mailchimp for WooCommerce's checkout box (`1`/`0`), or a label the seller gave
        // the field.
        (
            Field::AcceptsMarketing,
            &["mailchimp_woocommerce_is_subscribed"],
        ),
        (
            Field::AcceptsMarketing,
            &["_mailchimp_woocommerce_is_subscribed"],
        ),
        (Field::AcceptsMarketing, &["Accepts Marketing"]),
        (Field::AcceptsMarketing, &["Marketing opt-in"]),
    ],
    unpaid: &[
        "Pending payment",
        "pending",
        "wc-pending",
        "On hold",
        "on-hold",
        "wc-on-hold",
        "Failed",
        "wc-failed",
    ],
    paid: &["Processing", "wc-processing", "Completed", "wc-completed"],
    closed: &[
        "Cancelled",
        "wc-cancelled",
        "Refunded",
        "wc-refunded",
        "Draft",
        "checkout-draft",
    ],
    currency: None,
    zone_hint: Some("WooCommerce writes the site's zone (Settings > General > Timezone)."),
    language: None,
};
