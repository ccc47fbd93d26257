//! The second pass's last word on a reminder's wording: a step that makes an offer goes in
//! its own wording only to a buyer who accepted marketing; any other buyer still gets the
//! reminder, in the built-in `plain` wording (a reminder about the buyer's own unpaid order is
//! service, not marketing), never nothing. The ledger records the step, so the ladder climbs
//! as usual; only the words change.
//!
//! | the export's consent column | `[select] offers_need_consent` | an offer step's wording |
//! | --- | --- | --- |
//! | none | any | the step's own (the seller's responsibility) |
//! | `yes`, `true`, `1`, `subscribed`, `是`… | any | the step's own |
//! | `no`, `false`, `0`, `unsubscribed`, `否`…, an empty cell, an unknown word | true (default) | `plain` |
//! | any | false | the step's own |

use crate::config::Settings;
use crate::order::Consent;

/// The wording used instead of an offer for a buyer who did not accept marketing.
pub const PLAIN: &str = "plain";

/// The built-in steps that make an offer: a discount, popularity or stock, a promotion, a perk;
/// `missed_inquiry` offers a discount to make up for the wait. A `[[rules]]` entry whose
/// template has one of these names makes the same offer.
pub const OFFER_STEPS: &[&str] = &[
    "discount",
    "popular",
    "low_stock",
    "promo_ending",
    "returning_perk",
    "missed_inquiry",
];

/// Whether `step` makes an offer: one of [`OFFER_STEPS`], or `loyal` when the shop has member
/// benefits or a returning perk to offer in it.
#[must_use]
pub fn is_offer(step: &str, settings: &Settings) -> bool {
    let shop = &settings.shop;
    OFFER_STEPS.contains(&step)
        || (step == "loyal" && !(shop.member_benefits.is_empty() && shop.returning_perk.is_empty()))
}

/// The template to render for `step` to a buyer with `consent`: `Some(PLAIN)` when the step's
/// offer needs a consent the buyer did not give, `None` when the step's own wording goes.
#[must_use]
pub fn wording(step: &str, consent: Consent, settings: &Settings) -> Option<&'static str> {
    (settings.select.offers_need_consent && !consent.allows_offers() && is_offer(step, settings))
        .then_some(PLAIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn settings(extra: &str) -> Settings {
        let text =
            format!("[shop]\nname = \"Shop\"\n{extra}\n[source]\ntimezone = \"Asia/Shanghai\"\n");
        let path = std::path::Path::new("test.toml");
        Settings::resolve(Config::parse(&text, path).unwrap(), Some(path)).unwrap()
    }

    #[test]
    fn only_offers_without_consent_take_the_plain_wording() {
        let plain = settings("");
        for step in OFFER_STEPS {
            assert_eq!(
                wording(step, Consent::Declined, &plain),
                Some(PLAIN),
                "{step}"
            );
            assert_eq!(wording(step, Consent::Blank, &plain), Some(PLAIN), "{step}");
            assert_eq!(wording(step, Consent::Accepted, &plain), None, "{step}");
            assert_eq!(wording(step, Consent::NoColumn, &plain), None, "{step}");
        }
        for step in [
            "gentle",
            "payment_help",
            "closing_soon",
            "bank_transfer",
            "loyal",
        ] {
            assert_eq!(wording(step, Consent::Declined, &plain), None, "{step}");
        }
        // A regular customer's message offers something only when the shop has it to offer.
        let perks = settings("member_benefits = \"free shipping\"");
        assert_eq!(wording("loyal", Consent::Declined, &perks), Some(PLAIN));
    }
}
