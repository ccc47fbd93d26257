//! `[shop] language`, `[shop] languages` and `[languages]`: which languages the shop writes in,
//! and which language a country's buyers read.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Bad;
use crate::error::Error;
use crate::ingest::layout::Layout;
use crate::language::{self, ENGLISH};
use crate::order::Text;

/// `[languages]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguagesConfig {
    /// Country (ISO code, or a name as exports write it) -> language, over CLDR's table:
    /// `{ BR = "pt-BR", CH = "fr" }`.
    #[serde(default)]
    pub by_country: BTreeMap<String, String>,
}

/// The shop's languages, resolved.
#[derive(Debug, Clone, Default)]
pub struct Languages {
    /// `[shop] language` as set; `None`: the layout's marketplace language, else `en`.
    pub language: Option<&'static str>,
    /// `[shop] languages` as set; `None`: only `[shop] language`.
    pub enabled: Option<Vec<&'static str>>,
    /// `[languages] by_country`: ISO code -> language.
    pub by_country: BTreeMap<Text, &'static str>,
}

impl Languages {
    /// `[shop] language`, given the export's layout: as set, else the layout's marketplace
    /// language (Taobao/Tmall `zh-CN`), else `en`.
    #[must_use]
    pub fn default_for(&self, layout: Option<&'static str>) -> &'static str {
        self.language.or(layout).unwrap_or(ENGLISH)
    }

    /// The languages the shop sends, its own first.
    #[must_use]
    pub fn enabled_for(&self, layout: Option<&'static str>) -> Vec<&'static str> {
        let mut enabled = vec![self.default_for(layout)];
        for language in self.enabled.iter().flatten() {
            if !enabled.contains(language) {
                enabled.push(language);
            }
        }
        enabled
    }

    /// The marketplace language of a layout (`None`: its buyers speak many).
    #[must_use]
    pub fn of_layout(layout: Option<Layout>) -> Option<&'static str> {
        layout.and_then(|l| l.preset().language)
    }
}

/// One language setting, checked and made canonical.
fn tag(setting: &str, text: &str, bad: Bad<'_>) -> Result<&'static str, Error> {
    language::canonical(text).ok_or_else(|| {
        bad(
            setting,
            format!(
                "{text:?} is not a language; write a language tag, one of the built-in {} (or another, like \"pl\", whose templates you write)",
                language::shipped().join(", ")
            ),
        )
    })
}

pub(super) fn resolve(
    language: Option<&str>,
    languages: Option<&[String]>,
    config: &LanguagesConfig,
    bad: Bad<'_>,
) -> Result<Languages, Error> {
    let language = language
        .map(|text| tag("[shop].language", text, bad))
        .transpose()?;
    let enabled = match languages {
        None => None,
        Some([]) => {
            return Err(bad(
                "[shop].languages",
                "is empty; list the languages you send, like [\"en\", \"es\"], or remove the line (every reminder in [shop] language)".into(),
            ));
        }
        Some(list) => Some(
            list.iter()
                .map(|text| tag("[shop].languages", text, bad))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let mut by_country = BTreeMap::new();
    for (country, text) in &config.by_country {
        let setting = format!("[languages].by_country.{country}");
        let code = language::country_code(country).ok_or_else(|| {
            bad(
                &setting,
                format!(
                    "{country:?} is not a country payremind knows; write its ISO code, like \"BR\""
                ),
            )
        })?;
        if !language::known_region(&code) {
            return Err(bad(
                &setting,
                format!("{country:?} is no country's ISO code; write one like \"BR\" or \"DE\""),
            ));
        }
        by_country.insert(code, tag(&setting, text, bad)?);
    }
    Ok(Languages {
        language,
        enabled,
        by_country,
    })
}
