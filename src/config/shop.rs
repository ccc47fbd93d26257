//! `[shop]`: who the messages come from and what they may offer.

use chrono::{DateTime, Datelike, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
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
    /// The shop's dispatch cutoffs, shop time, like `["11:00", "17:00"]`: a reminder can
    /// promise "paid now, shipped today" before one, and `[select] send_before_dispatch` sends
    /// only in the window before one.
    pub dispatch_times: Option<Vec<String>>,
    /// The weekdays the cutoffs apply on (`["mon", "tue", …]`); absent = every day.
    pub dispatch_days: Option<Vec<String>>,
    /// The shop's own country (ISO code or name): its buyers are domestic, held by dispatch
    /// windows. Default: the country of `[source].timezone`.
    pub country: Option<String>,
    /// The language reminders are written in when the buyer's is not known or not sent (a
    /// language tag like `"en"` or `"zh-CN"`). Default: the layout's marketplace language
    /// (Taobao/Tmall `zh-CN`), else `en`.
    pub language: Option<String>,
    /// The languages the shop sends, like `["en", "es", "pt-BR"]`: a buyer who reads one of
    /// them gets it, anybody else `language`. Absent: every reminder in `language`.
    pub languages: Option<Vec<String>>,
    /// The address that takes "unsubscribe" mails (`List-Unsubscribe: <mailto:…>`); default:
    /// the Reply-To, else the sender.
    pub unsubscribe_mailto: Option<String>,
    /// The shop's unsubscribe page (https); `{token}` in it is filled in per recipient.
    pub unsubscribe_url: Option<String>,
    /// The environment variable holding the secret the `{token}` is made with.
    pub unsubscribe_secret_env: Option<String>,
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
    /// When parcels leave.
    #[serde(skip)]
    pub dispatch: Dispatch,
    /// The shop's country (ISO code), when known.
    #[serde(skip)]
    pub country: Option<&'static str>,
    /// The way out every reminder offers (never shown to templates whole: it holds the
    /// token's key).
    #[serde(skip)]
    pub unsubscribe: super::mail::Unsubscribe,
}

/// The shop's dispatch cutoffs (`[shop] dispatch_times`, `dispatch_days`), in its zone.
#[derive(Debug, Clone, Default)]
pub struct Dispatch {
    /// Cutoffs in a day, sorted; empty = none set.
    pub times: Vec<NaiveTime>,
    /// The weekdays they apply on; empty = every day.
    pub days: Vec<Weekday>,
    /// The shop's zone (`[source].timezone`).
    pub zone: Option<Tz>,
}

impl Dispatch {
    /// The cutoffs from the shop day before `after`'s to `days` days later, in time order.
    fn cutoffs(&self, after: DateTime<Utc>, days: i64) -> impl Iterator<Item = DateTime<Utc>> {
        let zone = self.zone.unwrap_or(chrono_tz::UTC);
        let today = after.with_timezone(&zone).date_naive();
        (-1..=days)
            .filter_map(move |d| today.checked_add_signed(TimeDelta::days(d)))
            .filter(|day| self.days.is_empty() || self.days.contains(&day.weekday()))
            .flat_map(move |day| {
                self.times.iter().filter_map(move |t| {
                    let local = zone.from_local_datetime(&day.and_time(*t));
                    local
                        .earliest()
                        .or_else(|| local.latest())
                        .map(|c| c.with_timezone(&Utc))
                })
            })
    }

    /// The first cutoff after `now` (within a fortnight), if any is set.
    #[must_use]
    pub fn next_cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cutoffs(now, 14).find(|c| *c > now)
    }

    /// Whether `at` is within `window` before a cutoff.
    #[must_use]
    pub fn in_window(&self, at: DateTime<Utc>, window: TimeDelta) -> bool {
        self.window_of(at, window).is_some()
    }

    /// The cutoff whose `window` `at` is in, if any.
    #[must_use]
    pub fn window_of(&self, at: DateTime<Utc>, window: TimeDelta) -> Option<DateTime<Utc>> {
        self.cutoffs(at, 1).find(|c| *c - window <= at && at < *c)
    }

    /// The start of the first window after `at` (within a fortnight).
    #[must_use]
    pub fn next_window(&self, at: DateTime<Utc>, window: TimeDelta) -> Option<DateTime<Utc>> {
        self.cutoffs(at, 14).map(|c| c - window).find(|s| *s > at)
    }

    /// `at` in the shop's zone.
    #[must_use]
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone.unwrap_or(chrono_tz::UTC))
    }
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
    let dispatch = dispatch(&shop, timezone, bad)?;
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
    let country = match shop.country.as_deref().map(str::trim) {
        None | Some("") => crate::zones::country_of_zone(timezone),
        // Any ISO code is the seller's to state, listed or not (it only says who is at home).
        Some(text) if text.len() == 2 && text.chars().all(|c| c.is_ascii_alphabetic()) => Some(
            crate::zones::country_code(text)
                .unwrap_or_else(|| Box::leak(text.to_ascii_uppercase().into_boxed_str())),
        ),
        Some(text) => Some(crate::zones::country_code(text).ok_or_else(|| {
            bad(
                "[shop].country",
                format!("{text:?} is not a country payremind knows; write its ISO code, like \"US\" or \"CN\""),
            )
        })?),
    };
    let reply_to = shop.reply_to.unwrap_or_default().trim().to_owned();
    let sender = shop.sender.unwrap_or_default().trim().to_owned();
    let unsubscribe = super::mail::unsubscribe(
        shop.unsubscribe_mailto.as_deref(),
        shop.unsubscribe_url.as_deref(),
        shop.unsubscribe_secret_env.as_deref(),
        &reply_to,
        &sender,
        bad,
    )?;
    Ok(Shop {
        dispatch,
        country,
        unsubscribe,
        name,
        sender,
        payment_help_url: shop.payment_help_url.unwrap_or_default().trim().to_owned(),
        discount_percent,
        returning_perk: shop.returning_perk.unwrap_or_default().trim().to_owned(),
        currency,
        low_stock_products: shop.low_stock_products,
        promo_ends,
        reply_to,
        bank_details: shop.bank_details.unwrap_or_default().trim().to_owned(),
        ships_within: shop.ships_within.unwrap_or_default().trim().to_owned(),
        gift: shop.gift.unwrap_or_default().trim().to_owned(),
        member_benefits: shop.member_benefits.unwrap_or_default().trim().to_owned(),
    })
}

/// `[shop] dispatch_times` and `dispatch_days`, read.
fn dispatch(shop: &ShopConfig, timezone: Tz, bad: Bad<'_>) -> Result<Dispatch, Error> {
    let mut times = Vec::new();
    for text in shop.dispatch_times.iter().flatten() {
        let time = NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
            bad(
                "[shop].dispatch_times",
                format!("{text:?} is not a time of day; write it like \"17:00\""),
            )
        })?;
        times.push(time);
    }
    times.sort_unstable();
    times.dedup();
    if shop.dispatch_days.as_ref().is_some_and(Vec::is_empty) {
        return Err(bad(
            "[shop].dispatch_days",
            "is empty, so the parcel would never leave; list the weekdays you ship, like [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], or remove the line (every day)".into(),
        ));
    }
    let mut days = Vec::new();
    for text in shop.dispatch_days.iter().flatten() {
        let day: Weekday = text.trim().parse().map_err(|_| {
            bad(
                "[shop].dispatch_days",
                format!("{text:?} is not a weekday; write it like \"mon\""),
            )
        })?;
        days.push(day);
    }
    if !days.is_empty() && times.is_empty() {
        return Err(bad(
            "[shop].dispatch_days",
            "is set without dispatch_times: set the cutoffs too, like [\"11:00\", \"17:00\"]"
                .into(),
        ));
    }
    Ok(Dispatch {
        times,
        days,
        zone: Some(timezone),
    })
}
