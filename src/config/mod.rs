//! The seller's `payremind.toml`, read before anything else: the schema (typos are errors, so a
//! misspelt key never silently changes who gets a message) and its resolution into [`Settings`],
//! the validated values every later stage receives.
//!
//! Precedence: built-in defaults < the config file < command-line flags. Parsing from a string
//! ([`Config::parse`]) is apart from loading a file, so tests and `check` can use it directly.

mod delivery;
mod experiment;
mod guard;
mod languages;
mod mail;
mod select;
mod shop;
mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use encoding_rs::Encoding;
use serde::Deserialize;

pub use self::delivery::{
    Delivery, DeliveryConfig, PasswordSource, Security, Sendmail, Smtp, SmtpConfig,
};
pub use self::experiment::{Experiment, ExperimentConfig};
pub use self::guard::{Guard, GuardConfig};
pub use self::languages::{Languages, LanguagesConfig};
pub use self::mail::{DkimConfig, MailSettings, Unsubscribe, free_mail, relay_is_provider};
pub use self::select::{Select, SelectConfig};
pub use self::shop::{Shop, ShopConfig};
pub use self::source::{ColumnSpec, SourceConfig};
use crate::decide::ladder::{Rule, RuleConfig};
use crate::error::Error;
use crate::ingest::layout::{Overrides, Statuses};
use crate::ingest::value::DateOrder;

/// How a section's resolution reports a bad value: the setting's name and what to write.
type Bad<'a> = &'a dyn Fn(&str, String) -> Error;

/// The commented starter config that `payremind init` writes: every key, explained.
pub const SAMPLE: &str = include_str!("../../config.sample.toml");

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
    /// `[columns]`: canonical field = header in the export (or a list of headers, joined).
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSpec>,
    /// `[statuses]`: export labels for each status class.
    #[serde(default)]
    pub statuses: Statuses,
    /// `[select]`: who is left alone.
    #[serde(default)]
    pub select: SelectConfig,
    /// `[templates]`: where the seller's own message templates are.
    #[serde(default)]
    pub templates: TemplatesConfig,
    /// `[[rules]]`: the reminder ladder; absent = the built-in ladder.
    pub rules: Option<Vec<RuleConfig>>,
    /// `[delivery]`: how `--send` hands messages over.
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// `[smtp]`: the mail server.
    #[serde(default)]
    pub smtp: SmtpConfig,
    /// `[ledger]`: where sent reminders are remembered.
    #[serde(default)]
    pub ledger: LedgerConfig,
    /// `[guard]`: when `--send` stops instead of sending.
    #[serde(default)]
    pub guard: GuardConfig,
    /// `[languages]`: which language a country's buyers read.
    #[serde(default)]
    pub languages: LanguagesConfig,
    /// `[experiment]`: the control group `payremind report` measures the reminders against.
    #[serde(default)]
    pub experiment: ExperimentConfig,
    /// `[dkim]`: the signature receivers check the messages against.
    pub dkim: Option<DkimConfig>,
    /// `[headers]`: fixed extra headers on every message.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// `[ledger]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The SQLite file (default `payremind.db` beside the config file).
    pub path: Option<PathBuf>,
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

/// `[ledger].path` as written, checked to name a real file: SQLite takes `""` and `":memory:"`
/// for a throwaway database and `file:` for a URI (`file:x?mode=memory`), and a ledger that is
/// not kept is a ledger that forgets what was sent, so every run would send everything again.
fn ledger_file(path: Option<PathBuf>, bad: Bad<'_>) -> Result<PathBuf, Error> {
    let Some(path) = path else {
        return Ok(PathBuf::from("payremind.db"));
    };
    let text = path.to_string_lossy();
    let trimmed = text.trim();
    let problem = if trimmed.is_empty() {
        Some("is empty")
    } else if trimmed == ":memory:" {
        Some("is \":memory:\", a database SQLite forgets when the run ends")
    } else if trimmed
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("file:"))
    {
        Some("is a SQLite URI (file:...), which can name a database that is not kept")
    } else if text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
        Some("names a folder")
    } else {
        None
    };
    match problem {
        None => Ok(path),
        Some(problem) => Err(bad(
            "[ledger].path",
            format!(
                "{problem}: it must name a file that is kept between runs, like \"payremind.db\" (the ledger remembers what was sent, so nobody is reminded twice)"
            ),
        )),
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
    /// The encoding named in `[source] encoding`; `None` = sniff it.
    pub encoding: Option<&'static Encoding>,
    /// The delimiter named in `[source] delimiter`; `None` = detect it.
    pub delimiter: Option<u8>,
    /// `[source] date_order`: day or month first in dates with the year last; `None` = decide
    /// from the export.
    pub date_order: Option<DateOrder>,
    /// `[source] format`, `[columns]` and `[statuses]`: how the export's layout is read.
    pub layout: Overrides,
    /// Selection thresholds.
    pub select: Select,
    /// The reminder ladder, first match wins.
    pub rules: Vec<Rule>,
    /// The seller's template folder, resolved against the config file's folder.
    pub templates_dir: Option<PathBuf>,
    /// How `--send` hands messages over.
    pub delivery: Delivery,
    /// The ledger file.
    pub ledger_path: PathBuf,
    /// `[guard]`: the limits past which `--send` stops.
    pub guard: Guard,
    /// `[shop] language`, `[shop] languages`, `[languages]`: the languages reminders are
    /// written in.
    pub languages: Languages,
    /// `[experiment]`: the share of buyers held out as a control group, and the hash's salt.
    pub experiment: Experiment,
    /// `[dkim]` and `[headers]`: what every message carries beside the words.
    pub mail: MailSettings,
}

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

        let source_settings = source::resolve(&config.source, &bad)?;
        let languages = languages::resolve(
            config.shop.language.as_deref(),
            config.shop.languages.as_deref(),
            &config.languages,
            &bad,
        )?;
        let shop = shop::resolve(config.shop, source_settings.timezone, &bad)?;
        let layout = source::overrides(
            source_settings.format,
            &config.columns,
            config.statuses,
            &bad,
        )?;
        let select = select::resolve(&config.select, &bad)?;
        let rules = select::rules(config.rules, &bad)?;
        if select.send_before_dispatch.is_some() {
            if shop.dispatch.times.is_empty() {
                return Err(bad(
                    "[select].send_before_dispatch",
                    "is set but [shop].dispatch_times is not: set the cutoffs, like [\"11:00\", \"17:00\"]".into(),
                ));
            }
            if shop.country.is_none() {
                return Err(bad(
                    "[select].send_before_dispatch",
                    "needs the shop's country, to know its domestic buyers: set [shop].country, like \"CN\"".into(),
                ));
            }
        }

        let templates_dir = config
            .templates
            .dir
            .map(|dir| match path.and_then(Path::parent) {
                Some(base) if dir.is_relative() => base.join(dir),
                _ => dir,
            });

        let base = path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let beside = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
        let delivery = delivery::resolve(&config.delivery, &config.smtp, &beside, &bad)?;
        let ledger_path = beside(ledger_file(config.ledger.path, &bad)?);
        let guard = guard::resolve(&config.guard, &bad)?;
        let experiment = experiment::resolve(&config.experiment, &shop.name, &bad)?;

        let mail = MailSettings {
            dkim: mail::dkim(config.dkim.as_ref(), &shop.sender, &beside, &bad)?,
            headers: mail::headers(&config.headers, &bad)?,
        };

        Ok(Settings {
            languages,
            mail,
            delivery,
            ledger_path,
            guard,
            experiment,
            path: path.map(Path::to_path_buf),
            shop,
            timezone: source_settings.timezone,
            timezone_set: source_settings.timezone_set,
            layout,
            encoding: source_settings.encoding,
            delimiter: source_settings.delimiter,
            date_order: source_settings.date_order,
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

    /// Settings a real run cannot do without and the file leaves unset, with what to write.
    #[must_use]
    pub fn missing(&self) -> Vec<(&'static str, &'static str)> {
        let mut missing = Vec::new();
        if self.shop.name.is_empty() {
            missing.push((
                "[shop].name",
                "is missing; write your shop's name under [shop], like name = \"My Shop\" (every message is signed with it)",
            ));
        }
        if !self.timezone_set {
            missing.push((
                "[source].timezone",
                "is missing; set the zone your export's times are in, like \"Asia/Shanghai\" (payremind never guesses it)",
            ));
        }
        missing
    }

    /// Settings that still hold the starter's example values, or that the export needs and
    /// the file leaves unset, each with what to write: `check` shows them as problems,
    /// `run --send` refuses while there are any, a dry run warns.
    ///
    /// `export_has_currency`: the export has a currency column, or its layout has one
    /// currency (then `[shop] currency` is not needed). `sending`: the messages are to leave
    /// (then `[shop] sender` is needed).
    ///
    /// The example values are the starter's own ([`SAMPLE`]), compared exactly: a test shop's
    /// own `orders@shop.example` is a real choice, the starter's `orders@myshop.example` is not.
    #[must_use]
    pub fn unfinished(
        &self,
        export_has_currency: bool,
        sending: bool,
    ) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let shop = &self.shop;
        for (setting, key, value, todo) in [
            (
                "[shop].name",
                "name",
                &shop.name,
                "write your shop's own name (every message is signed with it)",
            ),
            (
                "[shop].sender",
                "sender",
                &shop.sender,
                "write the address your reminders come from, as your mail server lets you send",
            ),
            (
                "[shop].payment_help_url",
                "payment_help_url",
                &shop.payment_help_url,
                "write your shop's own how-to-pay page, or remove the line",
            ),
            (
                "[shop].bank_details",
                "bank_details",
                &shop.bank_details,
                "write the account your buyers pay into, or remove the line (buyers would be sent this example account)",
            ),
            (
                "[shop].reply_to",
                "reply_to",
                &shop.reply_to,
                "write the address replies should go to, or remove the line",
            ),
        ] {
            if starter_shop_value(key).is_some_and(|example| is_starters(value, &example)) {
                problems.push((
                    setting,
                    format!("is still the starter's example {value:?}; {todo}"),
                ));
            }
        }
        if sending && shop.sender.is_empty() {
            problems.push((
                "[shop].sender",
                "is missing; write under [shop] the address your reminders come from, like sender = \"Your Shop <orders@your-shop.com>\"".to_owned(),
            ));
        }
        if !export_has_currency && shop.currency.is_empty() {
            problems.push((
                "[shop].currency",
                "is missing and the export has no currency column; write the currency of its totals under [shop], like currency = \"EUR\"".to_owned(),
            ));
        }
        problems
    }

    /// The error for one of [`Settings::missing`] or [`Settings::unfinished`].
    #[must_use]
    pub fn setting_error(&self, setting: &str, message: &str) -> Error {
        Error::Setting {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("<defaults>")),
            setting: setting.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Refuses a run with settings missing.
    ///
    /// # Errors
    /// The first missing setting.
    pub fn ready_to_run(&self) -> Result<(), Error> {
        match self.missing().first() {
            None => Ok(()),
            Some((setting, message)) => Err(self.setting_error(setting, message)),
        }
    }
}

/// The value the starter config ([`SAMPLE`]) shows for `[shop] key`, commented out or not: an
/// example, which a finished config never holds.
/// Whether `value` is the starter's `example`, or still carries the part of it that only the
/// example has (its `myshop.example` domain, its `XX00` account): a seller who changed the
/// shop's name in the sender but not the domain would still send from the example's domain.
/// Only the starter's own values are compared: a test shop's own reserved domain is fine.
fn is_starters(value: &str, example: &str) -> bool {
    const TELLTALES: &[&str] = &["myshop.example", "xx00 0000", "xxxxxxxx"];
    let value = value.trim().to_lowercase();
    let example = example.to_lowercase();
    !value.is_empty()
        && (value == example
            || TELLTALES
                .iter()
                .any(|t| example.contains(t) && value.contains(t)))
}

fn starter_shop_value(key: &str) -> Option<String> {
    let mut in_shop = false;
    for line in SAMPLE.lines() {
        if line.starts_with('[') {
            in_shop = line == "[shop]";
            continue;
        }
        let line = line.strip_prefix("# ").unwrap_or(line);
        if in_shop
            && line
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(" = "))
        {
            let table: toml::Table = toml::from_str(line).ok()?;
            return table.get(key)?.as_str().map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::layout::Layout;
    use crate::order::Field;
    use chrono::TimeDelta;

    fn resolve(text: &str) -> Result<Settings, Error> {
        let path = Path::new("payremind.toml");
        Settings::resolve(Config::parse(text, path)?, Some(path))
    }

    const MINIMAL: &str = "[shop]\nname = \"Shop\"\n[source]\ntimezone = \"Asia/Shanghai\"\n";

    #[test]
    fn the_sample_config_resolves() {
        let settings = resolve(SAMPLE).unwrap();
        assert_eq!(settings.select.min_age, TimeDelta::hours(2));
        assert_eq!(
            settings.rules.len(),
            crate::decide::ladder::default_rules().len()
        );
    }

    #[test]
    fn the_starters_examples_are_found_and_refused_and_real_values_are_not() {
        assert_eq!(
            starter_shop_value("sender").as_deref(),
            Some("My Shop <orders@myshop.example>")
        );
        assert!(starter_shop_value("payment_help_url").is_some_and(|u| u.starts_with("https://")));
        // The starter as written: the sender is missing, the currency unset.
        let starter = resolve(SAMPLE).unwrap();
        fn keys(problems: Vec<(&'static str, String)>) -> Vec<&'static str> {
            problems.into_iter().map(|(key, _)| key).collect()
        }
        assert_eq!(
            keys(starter.unfinished(false, true)),
            ["[shop].sender", "[shop].currency"]
        );
        assert!(starter.unfinished(true, false).is_empty());
        // Uncommented but never edited: both examples are refused, sending or not.
        let uncommented = SAMPLE
            .replace("# name = ", "name = ")
            .replace("# sender = ", "sender = ")
            .replace("# payment_help_url = ", "payment_help_url = ")
            .replace("# bank_details = ", "bank_details = ")
            .replace("# reply_to = ", "reply_to = ")
            .replace("# ships_within = ", "ships_within = ");
        // Buyers would be sent the example account, or replies would go to the example desk;
        // a promise the seller uncommented is theirs to make.
        assert_eq!(
            keys(resolve(&uncommented).unwrap().unfinished(true, false)),
            [
                "[shop].name",
                "[shop].sender",
                "[shop].payment_help_url",
                "[shop].bank_details",
                "[shop].reply_to"
            ]
        );
        // Half edited: the example's domain or account is still there.
        let half = uncommented
            .replace("name = \"My Shop\"", "name = \"Lotus Leaf\"")
            .replace(
                "My Shop <orders@myshop.example>",
                "Lotus Leaf <orders@MyShop.example>",
            )
            .replace(
                "https://myshop.example/help/how-to-pay",
                "https://myshop.example/help/how-to-pay/",
            )
            .replace("My Shop Ltd, IBAN", "Lotus Leaf Ltd, IBAN");
        assert_eq!(
            keys(resolve(&half).unwrap().unfinished(true, false)),
            [
                "[shop].sender",
                "[shop].payment_help_url",
                "[shop].bank_details",
                "[shop].reply_to"
            ],
            "{half}"
        );
        // A test shop's own reserved domain is a real choice.
        let own = format!(
            "{MINIMAL}sender = \"Shop <orders@shop.example>\"\npayment_help_url = \"https://shop.example/pay\"\n"
        )
        .replace("[source]\ntimezone = \"Asia/Shanghai\"\n", "")
            + "[source]\ntimezone = \"Asia/Shanghai\"\n";
        assert!(resolve(&own).unwrap().unfinished(true, true).is_empty());
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
        let near =
            resolve("[shop]\nname = \"S\"\n[source]\ntimezone = \"Shanghai\"\n").unwrap_err();
        assert!(
            near.to_string().contains("did you mean \"Asia/Shanghai\""),
            "{near}"
        );
        assert!(err.to_string().contains("[source].timezone"), "{err}");
        let settings = resolve("[shop]\nname = \"S\"\n").unwrap();
        let err = settings.ready_to_run().unwrap_err();
        assert!(err.to_string().contains("never guesses"), "{err}");
    }

    #[test]
    fn source_settings_are_validated() {
        let settings = resolve(&MINIMAL.replace(
            "[source]\n",
            "[source]\nformat = \"Shopify\"\nencoding = \"gbk\"\ndelimiter = \";\"\ndate_order = \"DMY\"\n",
        ))
        .unwrap();
        assert_eq!(
            settings.date_order,
            Some(crate::ingest::value::DateOrder::DayFirst)
        );
        assert_eq!(settings.layout.format, Some(Layout::Shopify));
        assert_eq!(settings.encoding.map(Encoding::name), Some("GBK"));
        assert_eq!(settings.delimiter, Some(b';'));
        for (key, value) in [
            ("date_order", "dd/mm"),
            ("format", "etsy"),
            ("encoding", "klingon"),
            ("delimiter", ";;"),
        ] {
            let text = MINIMAL.replace("[source]\n", &format!("[source]\n{key} = \"{value}\"\n"));
            let err = resolve(&text).unwrap_err();
            assert!(
                err.to_string().contains(&format!("[source].{key}")),
                "{err}"
            );
        }
    }

    #[test]
    fn columns_take_one_header_or_several() {
        let settings = resolve(&format!(
            "{MINIMAL}[columns]\nbuyer_name = [\"First\", \"Last\"]\nemail = \" Mail \"\n"
        ))
        .unwrap();
        assert_eq!(
            settings.layout.columns[&Field::BuyerName],
            ["First", "Last"]
        );
        assert_eq!(settings.layout.columns[&Field::Email], ["Mail"]);
    }
}
