//! The seller's `payremind.toml`, read before anything else: the schema (typos are errors, so a
//! misspelt key never silently changes who gets a message) and its resolution into [`Settings`],
//! the validated values every later stage receives.
//!
//! Precedence: built-in defaults < the config file < command-line flags. Parsing from a string
//! ([`Config::parse`]) is apart from loading a file, so tests and `check` can use it directly.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::TimeDelta;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::Error;
use crate::order::{Field, StatusClass, StoreTime};
use crate::plan::{Rule, RuleConfig};

/// The commented starter config that `payremind init` writes: every key, explained.
pub const SAMPLE: &str = include_str!("../config.sample.toml");

/// The file as written: every section optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[shop]`: who the messages come from and what they may offer.
    #[serde(default)]
    pub shop: ShopConfig,
    /// `[source]`: how to read the export.
    #[serde(default)]
    pub source: SourceConfig,
    /// `[columns]`: canonical field = header in the export.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// `[statuses]`: export labels for each status class.
    #[serde(default)]
    pub statuses: StatusesConfig,
    /// `[select]`: who is left alone.
    #[serde(default)]
    pub select: SelectConfig,
    /// `[templates]`: where the seller's own message templates are.
    #[serde(default)]
    pub templates: TemplatesConfig,
    /// `[[rules]]`: the reminder ladder; absent = the built-in ladder.
    pub rules: Option<Vec<RuleConfig>>,
}

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
}

/// `[source]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// IANA zone of the export's naive timestamps; also the store's calendar day.
    pub timezone: Option<String>,
}

/// `[statuses]`: each list replaces the built-in list of its class.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusesConfig {
    /// Labels of orders waiting for payment.
    pub unpaid: Option<Vec<String>>,
    /// Labels of paid (or authorised, or in payment) orders.
    pub paid: Option<Vec<String>>,
    /// Labels of cancelled, voided, refunded or timed-out orders.
    pub closed: Option<Vec<String>>,
}

/// `[select]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// Youngest order worth a reminder (default 2h).
    pub min_age: Option<String>,
    /// Oldest order still worth one (default 7d).
    pub max_age: Option<String>,
    /// An order closing within this is reminded now, urgently (default 3h).
    pub closing_window: Option<String>,
    /// Channels whose orders settle late and are never reminded.
    #[serde(default)]
    pub distribution_channels: Vec<String>,
}

/// `[templates]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatesConfig {
    /// Folder of `<name>.txt` templates that override or add to the built-in ones, relative to
    /// the config file.
    pub dir: Option<PathBuf>,
}

impl Config {
    /// Parses a config from its text; `path` only names it in errors.
    ///
    /// # Errors
    /// Invalid TOML, an unknown key or a value of the wrong type, with line and column.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            Error::ConfigSyntax {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim().replace('\n', " "),
            }
        })
    }

    /// Reads and parses the config file at `path`.
    ///
    /// # Errors
    /// The file cannot be read or does not parse.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The validated settings a run works with: every duration parsed, every name resolved.
#[derive(Debug)]
pub struct Settings {
    /// The config file they came from (`None`: built-in defaults only).
    pub path: Option<PathBuf>,
    /// Shop identity and offers.
    pub shop: Shop,
    /// Zone of naive export timestamps and of the store's calendar day.
    pub timezone: Tz,
    /// Whether `timezone` was set by the seller (false: UTC, only allowed for `check`).
    pub timezone_set: bool,
    /// Header names per canonical field, as configured or by default.
    pub columns: Vec<(Field, String, bool)>,
    /// Status label (trimmed, lower-cased) to class.
    pub statuses: HashMap<String, StatusClass>,
    /// Selection thresholds.
    pub select: Select,
    /// The reminder ladder, first match wins.
    pub rules: Vec<Rule>,
    /// The seller's template folder, resolved against the config file's folder.
    pub templates_dir: Option<PathBuf>,
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
    /// The final step's discount, percent.
    pub discount_percent: Decimal,
    /// The returning buyers' perk; empty = none.
    pub returning_perk: String,
    /// Currency when the export has none.
    pub currency: String,
    /// Products that are nearly sold out, as exported.
    pub low_stock_products: Vec<String>,
    /// End of the running promotion.
    #[serde(skip)]
    pub promo_ends: Option<StoreTime>,
}

/// `[select]`, resolved.
#[derive(Debug, Clone)]
pub struct Select {
    /// Youngest order worth a reminder.
    pub min_age: TimeDelta,
    /// Oldest order still worth one.
    pub max_age: TimeDelta,
    /// Closing this soon = remind now.
    pub closing_window: TimeDelta,
    /// Distribution channels, trimmed and lower-cased.
    pub distribution_channels: HashSet<String>,
}

/// Built-in status labels: a generic export's lower-case words.
const DEFAULT_UNPAID: &[&str] = &["unpaid", "pending"];
const DEFAULT_PAID: &[&str] = &["paid"];
const DEFAULT_CLOSED: &[&str] = &["closed", "cancelled", "canceled"];

impl Settings {
    /// Resolves a parsed config; `path` is the config file (relative template folders are
    /// resolved against its folder), `None` for built-in defaults.
    ///
    /// # Errors
    /// A value that parses as TOML but cannot be used: an unknown time zone, a bad duration, an
    /// unknown column key, a label claimed by two classes, a rule that makes no sense.
    pub fn resolve(config: Config, path: Option<&Path>) -> Result<Settings, Error> {
        let shown = path.map_or_else(|| PathBuf::from("<defaults>"), Path::to_path_buf);
        let bad = |setting: &str, message: String| Error::Setting {
            path: shown.clone(),
            setting: setting.to_owned(),
            message,
        };

        let (timezone, timezone_set) = match config.source.timezone.as_deref() {
            Some(name) => (
                Tz::from_str(name.trim()).map_err(|_| {
                    bad(
                        "[source].timezone",
                        format!("{name:?} is not an IANA time zone; write one like \"Asia/Shanghai\" or \"America/New_York\""),
                    )
                })?,
                true,
            ),
            None if path.is_some() => {
                return Err(bad(
                    "[source].timezone",
                    "is missing; set the zone your export's times are in, like \"Asia/Shanghai\" (payremind never guesses it)".into(),
                ));
            }
            None => (Tz::UTC, false),
        };

        let shop = resolve_shop(config.shop, timezone, &bad, path.is_some())?;
        let columns = resolve_columns(&config.columns, &bad)?;
        let statuses = resolve_statuses(&config.statuses, &bad)?;

        let duration = |key: &str, value: Option<&str>, default: &str| {
            parse_duration(value.unwrap_or(default)).map_err(|m| bad(&format!("[select].{key}"), m))
        };
        let select = Select {
            min_age: duration("min_age", config.select.min_age.as_deref(), "2h")?,
            max_age: duration("max_age", config.select.max_age.as_deref(), "7d")?,
            closing_window: duration(
                "closing_window",
                config.select.closing_window.as_deref(),
                "3h",
            )?,
            distribution_channels: config
                .select
                .distribution_channels
                .iter()
                .map(|c| c.trim().to_lowercase())
                .collect(),
        };
        if select.min_age > select.max_age {
            return Err(bad(
                "[select].min_age",
                "is longer than max_age, so no order could ever be reminded".into(),
            ));
        }

        let rules = match config.rules {
            None => crate::plan::default_rules(),
            Some(list) => list
                .into_iter()
                .enumerate()
                .map(|(i, rule)| {
                    Rule::from_config(rule).map_err(|m| bad(&format!("[[rules]] #{}", i + 1), m))
                })
                .collect::<Result<_, _>>()?,
        };

        let templates_dir = config
            .templates
            .dir
            .map(|dir| match path.and_then(Path::parent) {
                Some(base) if dir.is_relative() => base.join(dir),
                _ => dir,
            });

        Ok(Settings {
            path: path.map(Path::to_path_buf),
            shop,
            timezone,
            timezone_set,
            columns,
            statuses,
            select,
            rules,
            templates_dir,
        })
    }

    /// The settings of a run: `--config` when given, else `./payremind.toml` when present.
    /// `required` says whether built-in defaults may stand in for a missing file (`check`).
    ///
    /// # Errors
    /// No config where one is required, or a config that does not load or resolve.
    pub fn from_args(config: Option<&Path>, required: bool) -> Result<Settings, Error> {
        let default = Path::new("payremind.toml");
        let path = match config {
            Some(path) => Some(path),
            None if default.exists() => Some(default),
            None if required => return Err(Error::NoConfig),
            None => None,
        };
        match path {
            Some(path) => Settings::resolve(Config::load(path)?, Some(path)),
            None => Settings::resolve(Config::default(), None),
        }
    }

    /// The header mapped to `field`, if any.
    #[must_use]
    pub fn header(&self, field: Field) -> Option<&str> {
        self.columns
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, h, _)| h.as_str())
    }

    /// The class of a status label as exported, if a class claims it.
    #[must_use]
    pub fn status_class(&self, label: &str) -> Option<StatusClass> {
        self.statuses.get(&normalize_label(label)).copied()
    }
}

/// How status labels and channels are compared: trimmed, case-insensitive.
#[must_use]
pub fn normalize_label(label: &str) -> String {
    label.trim().to_lowercase()
}

fn resolve_shop(
    shop: ShopConfig,
    timezone: Tz,
    bad: &dyn Fn(&str, String) -> Error,
    from_file: bool,
) -> Result<Shop, Error> {
    let name = shop.name.unwrap_or_default().trim().to_owned();
    if name.is_empty() && from_file {
        return Err(bad(
            "[shop].name",
            "is missing; every message is signed with the shop's name".into(),
        ));
    }
    let discount_percent = shop.discount_percent.unwrap_or(Decimal::from(3));
    if discount_percent.is_sign_negative() || discount_percent >= Decimal::ONE_HUNDRED {
        return Err(bad(
            "[shop].discount_percent",
            format!("{discount_percent} is not a percentage between 0 and 100"),
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
    })
}

fn resolve_columns(
    columns: &BTreeMap<String, String>,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Vec<(Field, String, bool)>, Error> {
    for key in columns.keys() {
        if !Field::ALL.iter().any(|f| f.key() == key) {
            let known: Vec<&str> = Field::ALL.iter().map(|f| f.key()).collect();
            return Err(bad(
                &format!("[columns].{key}"),
                format!(
                    "is not a field payremind reads; use one of {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(Field::ALL
        .iter()
        .map(|&field| match columns.get(field.key()) {
            Some(header) => (field, header.trim().to_owned(), true),
            None => (field, field.key().to_owned(), false),
        })
        .collect())
}

fn resolve_statuses(
    statuses: &StatusesConfig,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<HashMap<String, StatusClass>, Error> {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let classes = [
        (
            StatusClass::Unpaid,
            "unpaid",
            statuses
                .unpaid
                .clone()
                .unwrap_or_else(|| owned(DEFAULT_UNPAID)),
        ),
        (
            StatusClass::Paid,
            "paid",
            statuses.paid.clone().unwrap_or_else(|| owned(DEFAULT_PAID)),
        ),
        (
            StatusClass::Closed,
            "closed",
            statuses
                .closed
                .clone()
                .unwrap_or_else(|| owned(DEFAULT_CLOSED)),
        ),
    ];
    let mut map: HashMap<String, StatusClass> = HashMap::new();
    let mut claimed_by: HashMap<String, &str> = HashMap::new();
    for (class, key, labels) in &classes {
        for label in labels {
            let norm = normalize_label(label);
            if let Some(other) = claimed_by.insert(norm.clone(), key) {
                if other != *key {
                    return Err(bad(
                        &format!("[statuses].{key}"),
                        format!(
                            "{label:?} is also listed under [statuses].{other}; a status can mean only one thing"
                        ),
                    ));
                }
            }
            map.insert(norm, *class);
        }
    }
    Ok(map)
}

/// Parses a duration like `2h`, `90min`, `7d` or `1d 12h`.
///
/// # Errors
/// A text humantime does not understand, with an example of what it does.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let std = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("{text:?} is not a duration ({e}); write it like \"2h\", \"30min\" or \"7d\"")
    })?;
    TimeDelta::from_std(std).map_err(|_| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<Settings, Error> {
        let path = Path::new("payremind.toml");
        Settings::resolve(Config::parse(text, path)?, Some(path))
    }

    const MINIMAL: &str = "[shop]\nname = \"Shop\"\n[source]\ntimezone = \"Asia/Shanghai\"\n";

    #[test]
    fn the_sample_config_resolves() {
        let settings = resolve(SAMPLE).unwrap();
        assert_eq!(settings.select.min_age, TimeDelta::hours(2));
        assert_eq!(settings.rules.len(), crate::plan::default_rules().len());
    }

    #[test]
    fn a_typo_names_the_key_and_its_line() {
        let err = resolve(&format!("{MINIMAL}[select]\nmin_agee = \"3h\"\n")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("payremind.toml:6:1: unknown field `min_agee`"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_column_key_is_an_error() {
        let err = resolve(&format!("{MINIMAL}[columns]\nemial = \"E-mail\"\n")).unwrap_err();
        assert!(
            err.to_string().contains("[columns].emial: is not a field"),
            "{err}"
        );
    }

    #[test]
    fn a_label_in_two_classes_is_an_error() {
        let err = resolve(&format!(
            "{MINIMAL}[statuses]\nunpaid = [\"Pending\"]\nclosed = [\"pending\"]\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("also listed under"), "{err}");
    }

    #[test]
    fn durations_and_zone_are_validated() {
        let err = resolve(&format!("{MINIMAL}[select]\nmin_age = \"two hours\"\n")).unwrap_err();
        assert!(err.to_string().contains("[select].min_age"), "{err}");
        let err =
            resolve("[shop]\nname = \"S\"\n[source]\ntimezone = \"Mars/Base\"\n").unwrap_err();
        assert!(err.to_string().contains("[source].timezone"), "{err}");
        let err = resolve("[shop]\nname = \"S\"\n").unwrap_err();
        assert!(err.to_string().contains("never guesses"), "{err}");
    }

    #[test]
    fn statuses_match_case_insensitively() {
        let settings = resolve(MINIMAL).unwrap();
        assert_eq!(
            settings.status_class(" Pending "),
            Some(StatusClass::Unpaid)
        );
        assert_eq!(settings.status_class("PAID"), Some(StatusClass::Paid));
        assert_eq!(settings.status_class("shipped"), None);
    }
}
