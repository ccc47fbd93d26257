//! The second pass's last word on a reminder's wording: a step that makes an offer goes in
//! its own wording only to a buyer who accepted marketing; any other buyer still gets the
//! reminder, in the built-in `plain` wording (a reminder about the buyer's own unpaid order is
//! service, not marketing), never nothing. A step makes an offer by its name ([`OFFER_STEPS`]),
//! or, for the seller's own templates, by what it shows ([`SellerOffers`]). The ledger records
//! the step, so the ladder climbs as usual; only the words change.
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

/// The values of `[shop]` and `order` that only an offer shows: a template that uses one of
/// them makes an offer, whatever its name.
const OFFER_VALUES: &[&str] = &[
    "discount_percent",
    "discounted_total",
    "shop.gift",
    "member_benefits",
    "returning_perk",
    "promo_ends",
];

/// The seller's templates (`[templates].dir`, and its folders one level down) that make an
/// offer by what they say: a `[[rules]]` template of the seller's own name (`weekend_sale`
/// with `{{ shop.discount_percent }}% off`), or a built-in step the seller rewrote with one.
/// Found once per run; the built-in steps that offer are [`OFFER_STEPS`].
#[derive(Debug, Default)]
pub struct SellerOffers(std::collections::HashSet<String>);

impl SellerOffers {
    /// Reads the seller's templates (none without `[templates].dir`). A file that cannot be
    /// read is left to the template loader, which reports it.
    #[must_use]
    pub fn find(settings: &Settings) -> SellerOffers {
        let mut offers = std::collections::HashSet::new();
        let Some(dir) = &settings.templates_dir else {
            return SellerOffers(offers);
        };
        let mut folders = vec![dir.clone()];
        if let Ok(entries) = std::fs::read_dir(dir) {
            folders.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        for folder in folders {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                let template = matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("txt" | "html")
                );
                let (Some(name), true) = (path.file_stem().and_then(|n| n.to_str()), template)
                else {
                    continue;
                };
                if name != PLAIN
                    && std::fs::read_to_string(&path)
                        .is_ok_and(|text| OFFER_VALUES.iter().any(|v| text.contains(v)))
                {
                    offers.insert(name.to_owned());
                }
            }
        }
        SellerOffers(offers)
    }

    /// [`wording`], with the seller's templates that make an offer counted as offer steps.
    #[must_use]
    pub fn wording(
        &self,
        step: &str,
        consent: Consent,
        settings: &Settings,
    ) -> Option<&'static str> {
        wording(step, consent, settings).or_else(|| {
            (settings.select.offers_need_consent
                && !consent.allows_offers()
                && self.0.contains(step))
            .then_some(PLAIN)
        })
    }
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
