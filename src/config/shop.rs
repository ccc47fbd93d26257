//! `[shop]`: who the messages come from and what they may offer.

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::Bad;
use crate::error::Error;
use crate::order::StoreTime;

/// `[shop]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    /// Shop name, used in every message.
    pub name: Option<String>,
    /// `From:` of the messages, `Shop <orders@shop.example>`.
    pub sender: Option<String>,
    /// How-to-pay page for new buyers.
    pub payment_help_url: Option<String>,
    /// The final step's discount, in percent.
    pub discount_percent: Option<Decimal>,
    /// What a returning buyer is offered; empty or absent = leave returning buyers alone.
    pub returning_perk: Option<String>,
    /// Currency of the totals when the export has no currency column.
    pub currency: Option<String>,
    /// Products that are nearly sold out (rules can match on them).
    #[serde(default)]
    pub low_stock_products: Vec<String>,
    /// When the running promotion ends (rules can match on it).
    pub promo_ends: Option<String>,
    /// `Reply-To:` of the messages, when replies should go elsewhere than `sender`.
    pub reply_to: Option<String>,
    /// How soon a paid order ships, like `"24 hours"` or `"2 working days"`: messages promise
    /// it only when set.
    pub ships_within: Option<String>,
    /// A gift the shop adds to paid orders, like `"a tea sample"`: mentioned only when set.
    pub gift: Option<String>,
    /// What regular customers get, like `"free shipping"`: the loyal message names it only
    /// when set.
    pub member_benefits: Option<String>,
    /// The account a bank-transfer buyer pays into (the `bank_transfer` message), as it
    /// should appear: several lines are fine.
    pub bank_details: Option<String>,
}

/// `[shop]`, resolved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shop {
    /// Shop name.
    pub name: String,
    /// `From:` address, as written.
    pub sender: String,
    /// How-to-pay page.
    pub payment_help_url: String,
    /// The discount, in percent, the final step offers; `None` (not set, or 0): no discount is
    /// offered anywhere.
    pub discount_percent: Option<Decimal>,
    /// The returning buyers' perk; empty = none.
    pub returning_perk: String,
    /// Currency when the export has none.
    pub currency: String,
    /// Products that are nearly sold out, as exported.
    pub low_stock_products: Vec<String>,
    /// End of the running promotion.
    #[serde(skip)]
    pub promo_ends: Option<StoreTime>,
    /// `Reply-To:` address, as written; empty = none.
    pub reply_to: String,
    /// Bank account details for bank-transfer buyers; empty = none.
    pub bank_details: String,
    /// How soon a paid order ships; empty = never promised.
    pub ships_within: String,
    /// The gift added to paid orders; empty = none.
    pub gift: String,
    /// What regular customers get; empty = nothing is claimed.
    pub member_benefits: String,
}

impl Shop {
    /// The `[shop]` keys that built-in messages use for a promise, and which of them are not
    /// set (the sentences that need them are left out): `check` lists them.
    #[must_use]
    pub fn unset_promises(&self) -> Vec<&'static str> {
        let mut unset: Vec<&'static str> = self
            .discount_percent
            .is_none()
            .then_some("discount_percent")
            .into_iter()
            .collect();
        unset.extend(
            [
                ("ships_within", &self.ships_within),
                ("gift", &self.gift),
                ("member_benefits", &self.member_benefits),
                ("returning_perk", &self.returning_perk),
            ]
            .into_iter()
            .filter(|(_, value)| value.is_empty())
            .map(|(key, _)| key),
        );
        unset
    }
}

pub(super) fn resolve(shop: ShopConfig, timezone: Tz, bad: Bad<'_>) -> Result<Shop, Error> {
    let name = shop.name.unwrap_or_default().trim().to_owned();
    // No default: a discount is the seller's offer to make, never payremind's.
    let discount_percent = shop.discount_percent.filter(|p| !p.is_zero());
    if let Some(percent) = discount_percent
        && (percent.is_sign_negative() || percent >= Decimal::ONE_HUNDRED)
    {
        return Err(bad(
            "[shop].discount_percent",
            format!("{percent} is not a percentage between 0 and 100"),
        ));
    }
    let currency = shop.currency.unwrap_or_default().trim().to_uppercase();
    let promo_ends = match shop.promo_ends.as_deref() {
        None => None,
        Some(text) => Some(
            crate::ingest::value::parse_time(text, timezone).map_err(|m| {
                bad(
                    "[shop].promo_ends",
                    format!("{text:?}: {m}; write it like \"2026-11-30 23:59\""),
                )
            })?,
        ),
    };
    Ok(Shop {
        name,
        sender: shop.sender.unwrap_or_default().trim().to_owned(),
        payment_help_url: shop.payment_help_url.unwrap_or_default().trim().to_owned(),
        discount_percent,
        returning_perk: shop.returning_perk.unwrap_or_default().trim().to_owned(),
        currency,
        low_stock_products: shop.low_stock_products,
        promo_ends,
        reply_to: shop.reply_to.unwrap_or_default().trim().to_owned(),
        bank_details: shop.bank_details.unwrap_or_default().trim().to_owned(),
        ships_within: shop.ships_within.unwrap_or_default().trim().to_owned(),
        gift: shop.gift.unwrap_or_default().trim().to_owned(),
        member_benefits: shop.member_benefits.unwrap_or_default().trim().to_owned(),
    })
}
