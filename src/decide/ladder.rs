//! The reminder ladder, the second pass's middle step: for each order select let through, pick
//! the message (a template) or a last reason to stay quiet. The ladder is data: an ordered list of [`Rule`]s, first match wins,
//! built in ([`default_rules`]) and replaceable by `[[rules]]` in the config without a rebuild.
//!
//! The built-in ladder, from the playbook (ages are inclusive lower bounds):
//!
//! | when | message |
//! | --- | --- |
//! | returning buyer paying by bank transfer, no perk | skip `no_offer_for_returning` |
//! | paying by bank transfer, younger than 48 h, not closing soon | skip `waiting_for_transfer` |
//! | paying by bank transfer (`[select].bank_transfer_methods`) | `bank_transfer` |
//! | the order auto-closes within `closing_window` | `closing_soon` |
//! | loyal buyer (2+ earlier paid orders) | `loyal` |
//! | returning buyer, `[shop].returning_perk` set | `returning_perk` |
//! | returning buyer, no perk | skip `no_offer_for_returning` |
//! | new buyer, 2 h to 12 h | `payment_help` |
//! | new buyer, 12 h to 48 h | `popular` |
//! | new buyer, from 48 h | `discount` (the final offer: `final = true`) |

use chrono::TimeDelta;
use serde::Deserialize;

use crate::order::{BuyerType, Text};
use crate::report::Reason;
use crate::units::{normalize_label, parse_duration};

/// What the planner knows about one candidate order.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The buyer's type.
    pub buyer_type: BuyerType,
    /// Time since the order was placed.
    pub age: TimeDelta,
    /// The order auto-closes within the closing window.
    pub closing_soon: bool,
    /// One of its products is in `[shop].low_stock_products`.
    pub low_stock: bool,
    /// Time until `[shop].promo_ends`, when that is still ahead.
    pub promo_ends_in: Option<TimeDelta>,
    /// `[shop].returning_perk` is set.
    pub has_perk: bool,
    /// The payment method is one of `[select].bank_transfer_methods`.
    pub bank_transfer: bool,
    /// The order's source (channel), lower-cased.
    pub source: &'a str,
    /// The order's product lines (`Silk pillow × 2`).
    pub products: &'a [Text],
}

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this template.
    Template(String),
    /// Send nothing, for this reason (shown in the report).
    Skip(Reason),
}

/// One step of the ladder: every condition that is set must hold.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Any of these buyer types (`None`: any buyer).
    pub buyer: Option<Vec<BuyerType>>,
    /// The order is at least this old.
    pub min_age: Option<TimeDelta>,
    /// The order is younger than this.
    pub max_age: Option<TimeDelta>,
    /// The order closes soon (or, `false`, does not).
    pub closing_soon: Option<bool>,
    /// A product is low on stock (or, `false`, none is).
    pub low_stock: Option<bool>,
    /// The promotion ends within this.
    pub promo_ends_within: Option<TimeDelta>,
    /// `[shop].returning_perk` is set (or, `false`, is not).
    pub returning_perk: Option<bool>,
    /// The payment method is a bank transfer (or, `false`, is not).
    pub bank_transfer: Option<bool>,
    /// Any of these sources (channels), lower-cased.
    pub source: Option<Vec<String>>,
    /// Any product of the order matches any of these patterns (globs, without case).
    pub product: Option<Products>,
    /// What to do when it matches.
    pub action: Action,
    /// The final offer: once sent, the order is given up.
    pub final_step: bool,
}

/// A `[[rules]]` entry as written in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `["new", "returning", "loyal"]`, any of.
    pub buyer: Option<Vec<BuyerType>>,
    /// Inclusive lower age bound, like `"12h"`.
    pub min_age: Option<String>,
    /// Exclusive upper age bound, like `"48h"`.
    pub max_age: Option<String>,
    /// Match only orders that close (true) or do not close (false) within the closing window.
    pub closing_soon: Option<bool>,
    /// Match only orders with (true) or without (false) a low-stock product.
    pub low_stock: Option<bool>,
    /// Match while `[shop].promo_ends` is ahead and within this, like `"3d"`.
    pub promo_ends_within: Option<String>,
    /// Match only when `[shop].returning_perk` is (true) or is not (false) set.
    pub returning_perk: Option<bool>,
    /// Match only orders paid (true) or not paid (false) by one of
    /// `[select].bank_transfer_methods`.
    pub bank_transfer: Option<bool>,
    /// Match only orders from these sources (the channel column), like
    /// `["subscription_contract"]`; compared without case.
    pub source: Option<Vec<String>>,
    /// Match only orders with a product whose name matches one of these globs, like
    /// `["*pillow*", "抱枕*"]` (`*` any text, `?` one character, `[abc]` one of them), without
    /// case.
    pub product: Option<Vec<String>>,
    /// The template to send.
    pub template: Option<String>,
    /// Or: the reason to send nothing.
    pub skip: Option<String>,
    /// `final = true`: the last offer; after it is sent, the order is given up.
    #[serde(rename = "final")]
    pub final_step: Option<bool>,
}

impl Rule {
    /// Validates a config rule.
    ///
    /// # Errors
    /// A bad duration, both or neither of `template` and `skip`, a skip reason that is not a
    /// simple `snake_case` word.
    pub fn from_config(config: RuleConfig) -> Result<Rule, String> {
        let duration = |key: &str, value: Option<String>| {
            value
                .map(|v| parse_duration(&v).map_err(|m| format!("{key}: {m}")))
                .transpose()
        };
        let action = match (config.template, config.skip) {
            (Some(t), None) if !t.trim().is_empty() => Action::Template(t.trim().to_owned()),
            (None, Some(s)) if is_reason(&s) => Action::Skip(Reason::for_rule(&s)?),
            (None, Some(s)) => {
                return Err(format!(
                    "skip = {s:?}: a reason is one lower-case word with underscores, like \"no_offer_for_returning\""
                ));
            }
            _ => {
                return Err(
                    "needs exactly one of template = \"<name>\" or skip = \"<reason>\"".into(),
                );
            }
        };
        Ok(Rule {
            buyer: config.buyer,
            min_age: duration("min_age", config.min_age)?,
            max_age: duration("max_age", config.max_age)?,
            closing_soon: config.closing_soon,
            low_stock: config.low_stock,
            promo_ends_within: duration("promo_ends_within", config.promo_ends_within)?,
            returning_perk: config.returning_perk,
            bank_transfer: config.bank_transfer,
            source: config
                .source
                .map(|list| list.iter().map(|s| normalize_label(s)).collect()),
            product: config.product.as_deref().map(Products::new).transpose()?,
            action,
            final_step: config.final_step.unwrap_or(false),
        })
    }

    /// Whether every condition set on the rule holds for `facts`.
    #[must_use]
    pub fn matches(&self, facts: &Facts) -> bool {
        let wants = |cond: Option<bool>, actual: bool| cond.is_none_or(|c| c == actual);
        self.buyer
            .as_ref()
            .is_none_or(|types| types.contains(&facts.buyer_type))
            && self.min_age.is_none_or(|min| facts.age >= min)
            && self.max_age.is_none_or(|max| facts.age < max)
            && wants(self.closing_soon, facts.closing_soon)
            && wants(self.low_stock, facts.low_stock)
            && wants(self.returning_perk, facts.has_perk)
            && wants(self.bank_transfer, facts.bank_transfer)
            && self
                .source
                .as_ref()
                .is_none_or(|sources| sources.iter().any(|s| s == facts.source))
            && self
                .product
                .as_ref()
                .is_none_or(|patterns| patterns.any(facts.products))
            && self.promo_ends_within.is_none_or(|window| {
                facts
                    .promo_ends_in
                    .is_some_and(|left| left > TimeDelta::zero() && left <= window)
            })
    }

    fn new(action: Action) -> Rule {
        Rule {
            buyer: None,
            min_age: None,
            max_age: None,
            closing_soon: None,
            low_stock: None,
            promo_ends_within: None,
            returning_perk: None,
            bank_transfer: None,
            source: None,
            product: None,
            action,
            final_step: false,
        }
    }
}

/// A rule's `product` patterns: globs, matched without case (Unicode's, so `*ÉTÉ*` finds
/// `Collection été`) against each product's name. globset's own case-insensitive mode knows only
/// ASCII, so patterns and names are both lower-cased, as `str::to_lowercase` does.
#[derive(Debug, Clone)]
pub struct Products(globset::GlobSet);

impl Products {
    /// The patterns, compiled.
    ///
    /// # Errors
    /// A pattern that is not a glob (an unclosed `[`), or an empty list.
    pub fn new(patterns: &[String]) -> Result<Products, String> {
        if patterns.is_empty() {
            return Err(
                "product = []: list at least one pattern, like [\"*pillow*\"], or remove the line"
                    .into(),
            );
        }
        let mut set = globset::GlobSetBuilder::new();
        for pattern in patterns {
            let glob = globset::GlobBuilder::new(&pattern.trim().to_lowercase())
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| {
                    format!(
                        "product: {pattern:?} is not a pattern ({}); write it like \"*pillow*\" (* is any text)",
                        e.kind()
                    )
                })?;
            set.add(glob);
        }
        set.build()
            .map(Products)
            .map_err(|e| format!("product: {e}"))
    }

    /// Whether the name of any of `products` matches any pattern.
    #[must_use]
    pub fn any(&self, products: &[Text]) -> bool {
        products.iter().any(|p| {
            self.0
                .is_match(crate::ingest::product::name_of(p).to_lowercase())
        })
    }
}

fn is_reason(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The playbook's ladder, used when the config has no `[[rules]]`.
#[must_use]
pub fn default_rules() -> Vec<Rule> {
    let template = |name: &str| Action::Template(name.to_owned());
    let for_buyer = |t: BuyerType, action| Rule {
        buyer: Some(vec![t]),
        ..Rule::new(action)
    };
    vec![
        // A buyer paying by bank transfer is told how to transfer, never how to check out by
        // card; a returning one still only with something to offer.
        Rule {
            bank_transfer: Some(true),
            returning_perk: Some(false),
            ..for_buyer(
                BuyerType::Returning,
                Action::Skip(Reason::NoOfferForReturning),
            )
        },
        // A transfer takes a working day or two: none is asked after before 48 h, unless the
        // order closes sooner.
        Rule {
            bank_transfer: Some(true),
            closing_soon: Some(false),
            max_age: Some(TimeDelta::hours(48)),
            ..Rule::new(Action::Skip(Reason::WaitingForTransfer))
        },
        Rule {
            bank_transfer: Some(true),
            ..Rule::new(template("bank_transfer"))
        },
        Rule {
            closing_soon: Some(true),
            ..Rule::new(template("closing_soon"))
        },
        for_buyer(BuyerType::Loyal, template("loyal")),
        Rule {
            returning_perk: Some(true),
            ..for_buyer(BuyerType::Returning, template("returning_perk"))
        },
        for_buyer(
            BuyerType::Returning,
            Action::Skip(Reason::NoOfferForReturning),
        ),
        Rule {
            min_age: Some(TimeDelta::hours(2)),
            max_age: Some(TimeDelta::hours(12)),
            ..for_buyer(BuyerType::New, template("payment_help"))
        },
        Rule {
            min_age: Some(TimeDelta::hours(12)),
            max_age: Some(TimeDelta::hours(48)),
            ..for_buyer(BuyerType::New, template("popular"))
        },
        Rule {
            min_age: Some(TimeDelta::hours(48)),
            final_step: true,
            ..for_buyer(BuyerType::New, template("discount"))
        },
    ]
}

/// A template's place in the ladder: the index of the first rule that sends it. A step is
/// never sent after a later one. The urgent "closes soon" message stands outside the ladder
/// (it may follow any step), and after it nothing else is sent.
#[must_use]
pub fn rank(rules: &[Rule], template: &str) -> usize {
    rules
        .iter()
        .position(|r| {
            matches!(&r.action, Action::Template(t) if t == template)
                && r.closing_soon != Some(true)
        })
        .unwrap_or(usize::MAX)
}

/// Whether sending `template` ends the ladder for the order.
#[must_use]
pub fn is_final(rules: &[Rule], template: &str) -> bool {
    rules
        .iter()
        .any(|r| r.final_step && matches!(&r.action, Action::Template(t) if t == template))
}

/// The first matching rule's action, or a skip with [`Reason::NoRule`].
#[must_use]
pub fn plan(rules: &[Rule], facts: &Facts) -> Action {
    rules
        .iter()
        .find(|rule| rule.matches(facts))
        .map_or(Action::Skip(Reason::NoRule), |rule| rule.action.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(buyer_type: BuyerType, hours: i64) -> Facts<'static> {
        Facts {
            buyer_type,
            age: TimeDelta::hours(hours),
            closing_soon: false,
            low_stock: false,
            promo_ends_in: None,
            has_perk: false,
            bank_transfer: false,
            source: "web",
            products: &[],
        }
    }

    fn step(f: &Facts) -> String {
        match plan(&default_rules(), f) {
            Action::Template(t) => t,
            Action::Skip(s) => format!("skip:{}", s.as_str()),
        }
    }

    #[test]
    fn new_buyers_climb_the_ladder_at_inclusive_bounds() {
        assert_eq!(step(&facts(BuyerType::New, 1)), "skip:no_rule");
        assert_eq!(step(&facts(BuyerType::New, 2)), "payment_help");
        assert_eq!(step(&facts(BuyerType::New, 11)), "payment_help");
        assert_eq!(step(&facts(BuyerType::New, 12)), "popular");
        assert_eq!(step(&facts(BuyerType::New, 47)), "popular");
        assert_eq!(step(&facts(BuyerType::New, 48)), "discount");
        assert_eq!(step(&facts(BuyerType::New, 160)), "discount");
    }

    #[test]
    fn returning_buyers_need_a_perk_and_loyal_ones_get_recognition() {
        assert_eq!(
            step(&facts(BuyerType::Returning, 20)),
            "skip:no_offer_for_returning"
        );
        let with_perk = Facts {
            has_perk: true,
            ..facts(BuyerType::Returning, 20)
        };
        assert_eq!(step(&with_perk), "returning_perk");
        assert_eq!(step(&facts(BuyerType::Loyal, 3)), "loyal");
    }

    #[test]
    fn closing_soon_wins_over_everything() {
        let closing = Facts {
            closing_soon: true,
            ..facts(BuyerType::Returning, 0)
        };
        assert_eq!(step(&closing), "closing_soon");
    }

    #[test]
    fn custom_rules_match_low_stock_and_promotions() {
        let rules = vec![
            Rule::from_config(RuleConfig {
                buyer: None,
                min_age: None,
                max_age: None,
                closing_soon: None,
                low_stock: None,
                promo_ends_within: Some("3d".into()),
                returning_perk: None,
                bank_transfer: None,
                source: None,
                product: None,
                template: Some("promo_ending".into()),
                skip: None,
                final_step: None,
            })
            .unwrap(),
            Rule {
                low_stock: Some(true),
                ..Rule::new(Action::Template("low_stock".into()))
            },
        ];
        let mut f = facts(BuyerType::New, 5);
        assert_eq!(plan(&rules, &f), Action::Skip(Reason::NoRule));
        f.low_stock = true;
        assert_eq!(plan(&rules, &f), Action::Template("low_stock".into()));
        f.promo_ends_in = Some(TimeDelta::days(2));
        assert_eq!(plan(&rules, &f), Action::Template("promo_ending".into()));
        f.promo_ends_in = Some(TimeDelta::days(4));
        assert_eq!(plan(&rules, &f), Action::Template("low_stock".into()));
    }

    #[test]
    fn a_product_rule_matches_any_product_by_glob_without_case() {
        let rule = |patterns: &[&str]| {
            let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
            Rule {
                product: Some(Products::new(&patterns).unwrap()),
                ..Rule::new(Action::Template("pillow".into()))
            }
        };
        let products: Vec<Text> = vec!["Matcha tin × 1".into(), "Silk PILLOW, grey × 2".into()];
        let f = Facts {
            products: &products,
            ..facts(BuyerType::New, 5)
        };
        assert!(rule(&["*pillow*", "抱枕*"]).matches(&f));
        assert!(
            rule(&["silk pillow, grey"]).matches(&f),
            "the name, without the count"
        );
        assert!(
            !rule(&["pillow"]).matches(&f),
            "a pattern without * is the whole name"
        );
        assert!(!rule(&["*cushion*"]).matches(&f));
        let chinese: Vec<Text> = vec!["抱枕 真丝 × 1".into()];
        assert!(rule(&["*pillow*", "抱枕*"]).matches(&Facts {
            products: &chinese,
            ..facts(BuyerType::New, 5)
        }));
        let french: Vec<Text> = vec!["Collection ÉTÉ × 1".into()];
        assert!(
            rule(&["*été*"]).matches(&Facts {
                products: &french,
                ..facts(BuyerType::New, 5)
            }),
            "Unicode case"
        );
        assert!(
            !rule(&["*pillow*"]).matches(&facts(BuyerType::New, 5)),
            "no products"
        );
        assert!(
            Products::new(&["[abc".to_owned()])
                .unwrap_err()
                .contains("not a pattern")
        );
        assert!(Products::new(&[]).is_err());
    }

    #[test]
    fn a_rule_needs_exactly_one_action() {
        let empty = RuleConfig {
            buyer: None,
            min_age: None,
            max_age: None,
            closing_soon: None,
            low_stock: None,
            promo_ends_within: None,
            returning_perk: None,
            bank_transfer: None,
            source: None,
            product: None,
            template: None,
            skip: None,
            final_step: None,
        };
        assert!(Rule::from_config(empty.clone()).is_err());
        let bad_reason = RuleConfig {
            skip: Some("Not Now".into()),
            ..empty
        };
        assert!(
            Rule::from_config(bad_reason)
                .unwrap_err()
                .contains("lower-case")
        );
    }
}
