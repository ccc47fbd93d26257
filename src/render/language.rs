//! Which language a reminder is written in: the export's language column, else the buyer's
//! country, else the layout's marketplace, else `[shop] language`; and only a language the shop
//! sends (`[shop] languages`). What a tag, a name or a country means is [`crate::language`]'s.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::language::{country_code, maximized, normalize, of_country, shipped};
use crate::order::{Order, Text};

/// Where a reminder's language came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The export's language column.
    Column,
    /// The buyer's country (`[languages] by_country`, else CLDR).
    Country,
    /// The layout's marketplace (Taobao/Tmall: Chinese).
    Layout,
    /// `[shop] language`.
    Shop,
}

/// What a language cell says.
#[derive(Debug, Clone, Copy)]
enum Value {
    /// A language payremind knows.
    Known(&'static str),
    /// A language, but none payremind has templates for.
    Other,
    /// Not a language.
    Unknown,
}

/// Picks each order's language, once per run: what a value means is remembered, since an
/// export repeats the same few countries and languages.
#[derive(Debug)]
pub struct Chooser {
    /// The languages the shop sends (`[shop] language` first).
    enabled: Vec<&'static str>,
    /// Every language a value may name: the shipped ones and the enabled ones.
    known: Vec<&'static str>,
    /// `[shop] language` (or the layout's, or `en`).
    default: &'static str,
    /// The layout's marketplace language, when it implies one.
    layout: Option<&'static str>,
    /// `[languages] by_country`: ISO code -> language.
    by_country: BTreeMap<Text, &'static str>,
    /// Language values seen -> their language.
    values: FxHashMap<Text, Value>,
    /// Countries seen -> their language.
    countries: FxHashMap<Text, Option<&'static str>>,
    /// Language values that named no language payremind knows, and how many orders had each.
    pub unknown: BTreeMap<Text, u64>,
}

impl Chooser {
    /// A chooser for the shop's settings and the export's layout language.
    #[must_use]
    pub fn new(languages: &crate::config::Languages, layout: Option<&'static str>) -> Chooser {
        let default = languages.default_for(layout);
        let enabled = languages.enabled_for(layout);
        let mut known: Vec<&'static str> = shipped().to_vec();
        for language in &enabled {
            if !known.contains(language) {
                known.push(language);
            }
        }
        Chooser {
            enabled,
            known,
            default,
            layout,
            by_country: languages.by_country.clone(),
            values: FxHashMap::default(),
            countries: FxHashMap::default(),
            unknown: BTreeMap::new(),
        }
    }

    /// The shop's own language, which every buyer not otherwise placed gets.
    #[must_use]
    pub fn default(&self) -> &'static str {
        self.default
    }

    /// The language the buyer reads, as far as the export says, and where it came from
    /// (before `[shop] languages` is applied). `None`: a language payremind has no templates
    /// for (`pl`, `zh-TW`), so the buyer gets the shop's.
    pub fn wanted(&mut self, order: &Order) -> (Option<&'static str>, Source) {
        if !order.language.is_empty() {
            let known = &self.known;
            let found =
                *self
                    .values
                    .entry(order.language.clone())
                    .or_insert_with(|| match normalize(&order.language, known) {
                        Some(language) => Value::Known(language),
                        None if maximized(&order.language).is_some() => Value::Other,
                        None => Value::Unknown,
                    });
            match found {
                Value::Known(language) => return (Some(language), Source::Column),
                Value::Other => return (None, Source::Column),
                Value::Unknown => *self.unknown.entry(order.language.clone()).or_default() += 1,
            }
        }
        if !order.country.is_empty() {
            let (known, by_country) = (&self.known, &self.by_country);
            let found = *self
                .countries
                .entry(order.country.clone())
                .or_insert_with(|| {
                    let code = country_code(&order.country)?;
                    by_country
                        .get(&code)
                        .copied()
                        .or_else(|| of_country(&code, known))
                });
            if let Some(language) = found {
                return (Some(language), Source::Country);
            }
        }
        match self.layout {
            Some(language) => (Some(language), Source::Layout),
            None => (Some(self.default), Source::Shop),
        }
    }

    /// The language the reminder is written in: the buyer's when the shop sends it, else the
    /// shop's own.
    pub fn choose(&mut self, order: &Order) -> &'static str {
        match self.wanted(order) {
            (Some(language), _) if self.enabled.contains(&language) => language,
            _ => self.default,
        }
    }

    /// A warning about language values no language was found for, if there were any.
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        let orders: u64 = self.unknown.values().sum();
        (orders > 0).then(|| {
            let values: Vec<String> = self
                .unknown
                .iter()
                .take(5)
                .map(|(value, n)| format!("{value:?} ({n})"))
                .collect();
            format!(
                "{orders} order{} had a language payremind does not know ({}): written in the country's or the shop's language; known: {}",
                if orders == 1 { "" } else { "s" },
                values.join(", "),
                self.known.join(", ")
            )
        })
    }
}
