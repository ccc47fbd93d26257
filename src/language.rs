//! Languages as exports and sellers write them, read with CLDR's data: the leaf under the
//! choice of a reminder's language (`render::language`) and the `[shop] language` settings.
//!
//! Language values are BCP 47 tags, as loosely as exports write them (`zh_CN`, `zh-cn`, `pt`,
//! `en-US`), or names in any shipped language (`Chinese`, `中文`, `Português`): both are read
//! with CLDR's data (ICU4X), never a hand-written table. A tag is matched to a language
//! payremind has templates for by CLDR's likely subtags: `zh` and `zh-Hans` are `zh-CN`, `pt` and
//! `pt-PT` are `pt-BR`, `en-GB` is `en`; `zh-TW` (Traditional script) is none of them. A country is
//! a language the same way (`und-BR` is `pt-Latn-BR`, so `BR` is `pt-BR`), which the seller can
//! override with `[languages] by_country`.

use std::sync::OnceLock;

use icu_experimental::displaynames::DisplayNamesOptions;
use icu_experimental::displaynames::multi::{LanguageDisplayNames, RegionDisplayNames};
use icu_locale::subtags::Region;
use icu_locale::{LanguageIdentifier, LocaleExpander, TransformResult};

use crate::order::Text;

// `SHIPPED_LANGUAGES`: the folders of `templates/`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/languages.rs"));

/// The language every shop has: the built-in templates' reference, and the last fallback.
pub const ENGLISH: &str = "en";

/// The languages payremind has built-in templates for (a folder each under `templates/`),
/// `en` first.
#[must_use]
pub fn shipped() -> &'static [&'static str] {
    static SHIPPED: OnceLock<Vec<&'static str>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let mut languages: Vec<&'static str> = vec![ENGLISH];
        languages.extend(SHIPPED_LANGUAGES.iter().filter(|l| **l != ENGLISH));
        languages
    })
}

/// CLDR's likely subtags (compiled in: making one costs nothing).
const fn expander() -> LocaleExpander {
    LocaleExpander::new_extended()
}

/// A tag with its likely subtags filled in (`pt` -> `pt-Latn-BR`); `None` for a tag that is
/// not one (`xx`, `und`) or that CLDR does not know.
pub(crate) fn maximized(text: &str) -> Option<LanguageIdentifier> {
    let mut id = LanguageIdentifier::try_from_str(&text.trim().replace('_', "-")).ok()?;
    let known = match expander().maximize(&mut id) {
        TransformResult::Modified => true,
        // Already maximal (`zh-Hans-CN`) is a tag CLDR knows only when it has a script.
        TransformResult::Unmodified => id.script.is_some(),
    };
    (known && !id.language.is_unknown()).then_some(id)
}

/// Among `candidates`, the one that writes `id`'s language in `id`'s script, preferring the
/// same region (`pt-PT` finds `pt-BR` when there is no `pt-PT`).
fn best_match(id: &LanguageIdentifier, candidates: &[&'static str]) -> Option<&'static str> {
    let same: Vec<(&'static str, LanguageIdentifier)> = candidates
        .iter()
        .filter_map(|c| maximized(c).map(|m| (*c, m)))
        .filter(|(_, m)| m.language == id.language && m.script == id.script)
        .collect();
    same.iter()
        .find(|(_, m)| m.region == id.region)
        .or_else(|| same.first())
        .map(|(c, _)| *c)
}

/// A language tag as written in the config (`zh_CN`, `pt`, `Deutsch`), in its canonical form:
/// a shipped language's own tag when it is one (`zh` -> `zh-CN`), else the tag as BCP 47 writes
/// it (`pl`, a language whose templates the seller writes). `None`: not a language.
#[must_use]
pub fn canonical(text: &str) -> Option<&'static str> {
    if let Some(shipped) = normalize(text, shipped()) {
        return Some(shipped);
    }
    let mut id = LanguageIdentifier::try_from_str(&text.trim().replace('_', "-")).ok()?;
    maximized(text)?;
    // A new tag, kept for the whole run (config is read once).
    id.variants.clear();
    Some(Box::leak(id.to_string().into_boxed_str()))
}

/// The language of `candidates` that a language value names: a tag (`zh_CN`, `pt`, `en-US`)
/// or a name in one of the shipped languages (`Chinese`, `中文`, `Português (Brasil)`).
#[must_use]
pub fn normalize(text: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(id) = maximized(text)
        && let Some(found) = best_match(&id, candidates)
    {
        return Some(found);
    }
    let lower = text.to_lowercase();
    let name = lower
        .split(['(', '（', ','])
        .next()
        .unwrap_or_default()
        .trim();
    named(name, candidates)
}

/// The candidate whose name, in any candidate language, is `name` (lower-cased), from CLDR:
/// `chinese`, `中文`, `chinois`, `китайский` are all `zh`.
fn named(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let ids: Vec<(&'static str, LanguageIdentifier)> = candidates
        .iter()
        .filter_map(|c| maximized(c).map(|id| (*c, id)))
        .collect();
    ids.iter().find_map(|(_, display)| {
        let formatter =
            LanguageDisplayNames::try_new(display.into(), DisplayNamesOptions::default()).ok()?;
        ids.iter()
            .find(|(_, id)| {
                formatter
                    .of(id.language)
                    .is_some_and(|n| n.to_lowercase() == name)
            })
            .map(|(c, _)| *c)
    })
}

/// The language CLDR says a country's people most likely read (`BR` -> `pt-BR`), among
/// `candidates`. ICU4X's likely-subtags data leaves out the countries whose answer is CLDR's
/// default for an unknown language, English (`GB`, `AU`, `CA`, `NG`…): those read `en`.
#[must_use]
pub fn of_country(code: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let mut id = LanguageIdentifier::try_from_str(&format!("und-{code}")).ok()?;
    id.region?;
    if expander().maximize(&mut id) == TransformResult::Unmodified {
        id = LanguageIdentifier::try_from_str(&format!("en-{code}")).ok()?;
        expander().maximize(&mut id);
    }
    best_match(&id, candidates)
}

/// The ISO code of a country as an export writes it: what [`crate::zones::country_code`]
/// reads (codes, English and Chinese names), or any other two-letter code.
#[must_use]
pub fn country_code(text: &str) -> Option<Text> {
    let text = text.trim();
    match crate::zones::country_code(text) {
        Some(code) => Some(Text::from(code)),
        None if text.len() == 2 && text.chars().all(|c| c.is_ascii_alphabetic()) => {
            Some(Text::from(text.to_ascii_uppercase()))
        }
        None => named_country(text).map(Text::from),
    }
}

/// Whether `code` (two capital letters) is a country or territory CLDR has a name for: `BR`
/// is, `XX` and `ZZ` are not.
#[must_use]
pub fn known_region(code: &str) -> bool {
    let Ok(region) = Region::try_from_str(code) else {
        return false;
    };
    let Some(id) = maximized(ENGLISH) else {
        return false;
    };
    RegionDisplayNames::try_new((&id).into(), DisplayNamesOptions::default())
        .ok()
        .and_then(|formatter| formatter.of(region).map(|_| ()))
        .is_some()
}

/// The ISO code of a country's name in any shipped language, from CLDR's territory names
/// (`Bolivia`, `Uruguay`, `Costa Rica`, `Brasil`, `Österreich`), also as ISO 3166 writes the
/// long ones (`Bolivia, Plurinational State of`, `Venezuela (Bolivarian Republic of)`): the
/// countries [`crate::zones::country_code`]'s own list (made for time zones) leaves out. The
/// names are gathered once, on the first country that needs them.
fn named_country(text: &str) -> Option<String> {
    static NAMES: OnceLock<rustc_hash::FxHashMap<String, String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut names = rustc_hash::FxHashMap::default();
        for language in shipped() {
            let Some(id) = maximized(language) else {
                continue;
            };
            let Ok(formatter) =
                RegionDisplayNames::try_new((&id).into(), DisplayNamesOptions::default())
            else {
                continue;
            };
            for a in b'A'..=b'Z' {
                for b in b'A'..=b'Z' {
                    let code = [a, b];
                    let Ok(region) = Region::try_from_utf8(&code) else {
                        continue;
                    };
                    if let Some(name) = formatter.of(region) {
                        names
                            .entry(name.to_lowercase())
                            .or_insert_with(|| String::from_utf8_lossy(&code).into_owned());
                    }
                }
            }
        }
        names
    });
    let lower = text.to_lowercase();
    let short = lower
        .split([',', '(', '（'])
        .next()
        .unwrap_or_default()
        .trim();
    names
        .get(lower.as_str())
        .or_else(|| names.get(short))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEVEN: &[&str] = &["en", "zh-CN", "es", "pt-BR", "ru", "fr", "de"];

    #[test]
    fn tags_and_names_find_the_shipped_language() {
        for (value, expected) in [
            ("zh_CN", Some("zh-CN")),
            ("zh-cn", Some("zh-CN")),
            ("zh", Some("zh-CN")),
            ("zh-Hans", Some("zh-CN")),
            ("ZH-hans-cn", Some("zh-CN")),
            ("Chinese", Some("zh-CN")),
            ("中文", Some("zh-CN")),
            ("pt", Some("pt-BR")),
            ("pt_BR", Some("pt-BR")),
            ("pt-PT", Some("pt-BR")),
            ("Português", Some("pt-BR")),
            ("Português (Brasil)", Some("pt-BR")),
            ("en-US", Some("en")),
            ("English", Some("en")),
            ("Deutsch", Some("de")),
            ("de-AT", Some("de")),
            ("Русский", Some("ru")),
            ("français", Some("fr")),
            ("es-MX", Some("es")),
            ("Spanish", Some("es")),
            // Traditional script is not Simplified Chinese; Polish is not shipped.
            ("zh-TW", None),
            ("zh-Hant", None),
            ("pl", None),
            ("Klingon", None),
            ("", None),
            ("und", None),
        ] {
            assert_eq!(normalize(value, SEVEN), expected, "{value}");
        }
    }

    #[test]
    fn a_country_reads_its_likeliest_language() {
        for (code, expected) in [
            ("BR", Some("pt-BR")),
            ("RU", Some("ru")),
            ("BY", Some("ru")),
            ("CN", Some("zh-CN")),
            ("MX", Some("es")),
            ("ES", Some("es")),
            ("FR", Some("fr")),
            ("DE", Some("de")),
            ("AT", Some("de")),
            ("US", Some("en")),
            ("GB", Some("en")),
            ("AU", Some("en")),
            ("CA", Some("en")),
            ("CH", Some("de")),
            ("PL", None),
            ("TW", None),
        ] {
            assert_eq!(of_country(code, SEVEN), expected, "{code}");
        }
    }

    #[test]
    fn a_country_name_beyond_the_zones_list_is_read_with_cldr_s_names() {
        for (text, code) in [
            ("Bolivia", "BO"),
            ("Bolivia, Plurinational State of", "BO"),
            ("Uruguay", "UY"),
            ("Costa Rica", "CR"),
            ("Dominican Republic", "DO"),
            ("Angola", "AO"),
            ("Österreich", "AT"),
            ("乌拉圭", "UY"),
            ("Brazil", "BR"),
        ] {
            assert_eq!(country_code(text).as_deref(), Some(code), "{text}");
        }
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(of_country("UY", SEVEN), Some("es"));
    }

    #[test]
    fn config_tags_are_made_canonical() {
        assert_eq!(canonical("en_US"), Some("en"));
        assert_eq!(canonical("pl"), Some("pl"));
        assert_eq!(canonical("PL"), Some("pl"));
        assert_eq!(canonical("Klingon"), None);
        assert_eq!(canonical("xx"), None);
    }
}
