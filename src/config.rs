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

use encoding_rs::Encoding;

use crate::decide::ladder::{Rule, RuleConfig};
use crate::error::Error;
use crate::ingest::layout::{Layout, Overrides, Statuses};
use crate::order::{Field, StoreTime};
use crate::units::{normalize_label, parse_duration, parse_rate};

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
}

/// `[delivery]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// `smtp` (default), `sendmail` or `outbox`.
    pub via: Option<String>,
    /// The sendmail program (default `/usr/sbin/sendmail`).
    pub sendmail: Option<PathBuf>,
    /// How long the sendmail program may take for one message (default `2m`).
    pub sendmail_timeout: Option<String>,
    /// The folder `outbox` writes `.eml` files into (default `outbox`, beside the config).
    pub outbox: Option<PathBuf>,
}

/// `[smtp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server name or address.
    pub host: Option<String>,
    /// Port (default 587; 465 is usual for `tls`).
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit) or `none`.
    pub security: Option<String>,
    /// Login; absent = no AUTH.
    pub username: Option<String>,
    /// The environment variable holding the password (default `PAYREMIND_SMTP_PASSWORD`).
    pub password_env: Option<String>,
    /// Or a file holding the password.
    pub password_file: Option<PathBuf>,
    /// A certificate (PEM) to trust besides the usual ones (a self-signed relay).
    pub ca_file: Option<PathBuf>,
    /// How long to wait for the server (default 30s).
    pub timeout: Option<String>,
    /// Connections used in parallel (default 4).
    pub max_connections: Option<usize>,
    /// `20/s`, `600/min` or `none` (default `none`).
    pub rate_limit: Option<String>,
    /// Allow a password over an unencrypted connection (default false).
    pub allow_insecure_auth: Option<bool>,
    /// Tries per message for failures that may pass (default 3).
    pub attempts: Option<u32>,
    /// The wait before the first retry, doubled each time (default 2s).
    pub retry_delay: Option<String>,
}

/// `[ledger]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The SQLite file (default `payremind.db` beside the config file).
    pub path: Option<PathBuf>,
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
    /// `Reply-To:` of the messages, when replies should go elsewhere than `sender`.
    pub reply_to: Option<String>,
}

/// `[source]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// IANA zone of the export's naive timestamps; also the store's calendar day.
    pub timezone: Option<String>,
    /// `auto` (default), `generic`, `shopify`, `woocommerce`, `aliexpress` or `taobao`.
    pub format: Option<String>,
    /// `auto` (default: BOM, else valid UTF-8, else GB18030) or an encoding name (`gbk`).
    pub encoding: Option<String>,
    /// `auto` (default: comma, semicolon or tab, from the header line) or the character.
    pub delimiter: Option<String>,
}

/// A `[columns]` value: one header, or several whose values are joined with a space
/// (`buyer_name = ["First Name", "Last Name"]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ColumnSpec {
    /// One header.
    One(String),
    /// Several headers, joined.
    Joined(Vec<String>),
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
    /// Least time between two reminders to the same buyer (default 20h).
    pub min_gap: Option<String>,
    /// Most reminders per order (default 3).
    pub max_reminders: Option<u32>,
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
    /// The encoding named in `[source] encoding`; `None` = sniff it.
    pub encoding: Option<&'static Encoding>,
    /// The delimiter named in `[source] delimiter`; `None` = detect it.
    pub delimiter: Option<u8>,
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
}

/// How `--send` hands messages over.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// To an SMTP server.
    Smtp(Smtp),
    /// To the local MTA's sendmail program.
    Sendmail(Sendmail),
    /// As `.eml` files into a folder.
    Outbox(PathBuf),
}

/// `[delivery]` for `via = "sendmail"`.
#[derive(Debug, Clone)]
pub struct Sendmail {
    /// The program (`/usr/sbin/sendmail` unless set).
    pub program: PathBuf,
    /// How long it may take for one message before it is stopped: a relaying sendmail (msmtp)
    /// waits on its server, and a cron run must not hang on it (the next run would find the
    /// ledger locked).
    pub timeout: std::time::Duration,
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (refused if the server cannot).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption (a relay on the same machine).
    None,
}

/// Where the SMTP password comes from; the password itself is read only when sending.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// An environment variable.
    Env(String),
    /// A file (first line).
    File(PathBuf),
}

/// `[smtp]`, resolved. Holds no secret: the password is read when sending.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Server name or address (also the name its certificate must carry).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Encryption.
    pub security: Security,
    /// Login, if AUTH is used.
    pub username: Option<String>,
    /// Where the password is.
    pub password: PasswordSource,
    /// An extra trusted certificate.
    pub ca_file: Option<PathBuf>,
    /// How long to wait for the server.
    pub timeout: std::time::Duration,
    /// Connections in parallel.
    pub max_connections: usize,
    /// Messages per second at most.
    pub rate_limit: Option<f64>,
    /// Tries per message for failures that may pass.
    pub attempts: u32,
    /// First wait before a retry.
    pub retry_delay: std::time::Duration,
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
    /// `Reply-To:` address, as written; empty = none.
    pub reply_to: String,
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
    /// Least time between two reminders to the same buyer.
    pub min_gap: TimeDelta,
    /// Most reminders per order.
    pub max_reminders: u32,
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
            None => (Tz::UTC, false),
        };
        let format = match config.source.format.as_deref().map(str::trim) {
            None | Some("auto") => None,
            Some(name) => Some(Layout::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Layout::ALL.iter().map(|l| l.name()).collect();
                bad(
                    "[source].format",
                    format!(
                        "{name:?} is not a layout payremind knows; use \"auto\" or one of {}",
                        names.join(", ")
                    ),
                )
            })?),
        };
        let encoding = match config.source.encoding.as_deref().map(str::trim) {
            None | Some("auto") => None,
            Some(label) => Some(Encoding::for_label(label.as_bytes()).ok_or_else(|| {
                bad("[source].encoding", format!("{label:?} is not an encoding name; use \"auto\", \"utf-8\", \"gb18030\", \"utf-16le\" or another WHATWG name"))
            })?),
        };
        let delimiter = match config.source.delimiter.as_deref() {
            None | Some("auto") => None,
            Some("tab" | "\\t" | "\t") => Some(b'\t'),
            Some(d) if d.len() == 1 && d != "\"" && d != "\n" => Some(d.as_bytes()[0]),
            Some(d) => {
                return Err(bad(
                    "[source].delimiter",
                    format!(
                        "{d:?} is not one ASCII character; use \"auto\", \",\", \";\" or \"tab\""
                    ),
                ));
            }
        };

        let shop = resolve_shop(config.shop, timezone, &bad)?;
        let columns = resolve_columns(&config.columns, &bad)?;
        check_statuses(&config.statuses, &bad)?;

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
                .map(|c| normalize_label(c))
                .collect(),
            min_gap: duration("min_gap", config.select.min_gap.as_deref(), "20h")?,
            max_reminders: config.select.max_reminders.unwrap_or(3),
        };
        if select.min_age > select.max_age {
            return Err(bad(
                "[select].min_age",
                "is longer than max_age, so no order could ever be reminded".into(),
            ));
        }

        let rules = match config.rules {
            None => crate::decide::ladder::default_rules(),
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

        let base = path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let beside = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
        let delivery = resolve_delivery(&config.delivery, &config.smtp, &beside, &bad)?;
        let ledger_path = beside(
            config
                .ledger
                .path
                .unwrap_or_else(|| PathBuf::from("payremind.db")),
        );

        Ok(Settings {
            delivery,
            ledger_path,
            path: path.map(Path::to_path_buf),
            shop,
            timezone,
            timezone_set,
            layout: Overrides {
                format,
                columns,
                statuses: config.statuses,
            },
            encoding,
            delimiter,
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

    /// Refuses a run with settings missing.
    ///
    /// # Errors
    /// The first missing setting.
    pub fn ready_to_run(&self) -> Result<(), Error> {
        match self.missing().first() {
            None => Ok(()),
            Some((setting, message)) => Err(Error::Setting {
                path: self
                    .path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("<defaults>")),
                setting: (*setting).to_owned(),
                message: (*message).to_owned(),
            }),
        }
    }
}

fn resolve_shop(
    shop: ShopConfig,
    timezone: Tz,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Shop, Error> {
    let name = shop.name.unwrap_or_default().trim().to_owned();
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
        reply_to: shop.reply_to.unwrap_or_default().trim().to_owned(),
    })
}

fn resolve_columns(
    columns: &BTreeMap<String, ColumnSpec>,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<BTreeMap<Field, Vec<String>>, Error> {
    let mut resolved = BTreeMap::new();
    for (key, spec) in columns {
        let Some(field) = Field::ALL.iter().find(|f| f.key() == key) else {
            let known: Vec<&str> = Field::ALL.iter().map(|f| f.key()).collect();
            return Err(bad(
                &format!("[columns].{key}"),
                format!(
                    "is not a field payremind reads; use one of {}",
                    known.join(", ")
                ),
            ));
        };
        let headers: Vec<String> = match spec {
            ColumnSpec::One(h) => vec![h.trim().to_owned()],
            ColumnSpec::Joined(hs) => hs.iter().map(|h| h.trim().to_owned()).collect(),
        };
        if headers.is_empty() || headers.iter().any(String::is_empty) {
            return Err(bad(
                &format!("[columns].{key}"),
                "names an empty header; write the header exactly as the export's first row has it"
                    .into(),
            ));
        }
        resolved.insert(*field, headers);
    }
    Ok(resolved)
}

fn resolve_delivery(
    delivery: &DeliveryConfig,
    smtp: &SmtpConfig,
    beside: &dyn Fn(PathBuf) -> PathBuf,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Delivery, Error> {
    match delivery.via.as_deref().map(str::trim).unwrap_or("smtp") {
        "smtp" => resolve_smtp(smtp, beside, bad).map(Delivery::Smtp),
        "sendmail" => Ok(Delivery::Sendmail(Sendmail {
            program: delivery
                .sendmail
                .clone()
                .unwrap_or_else(|| PathBuf::from("/usr/sbin/sendmail")),
            timeout: parse_duration(delivery.sendmail_timeout.as_deref().unwrap_or("2m"))
                .and_then(|d| match d.to_std() {
                    Ok(d) if !d.is_zero() => Ok(d),
                    _ => Err("must be more than zero, like \"2m\"".to_owned()),
                })
                .map_err(|m| bad("[delivery].sendmail_timeout", m))?,
        })),
        "outbox" => Ok(Delivery::Outbox(beside(
            delivery
                .outbox
                .clone()
                .unwrap_or_else(|| PathBuf::from("outbox")),
        ))),
        other => Err(bad(
            "[delivery].via",
            format!("{other:?} is not a way to send; use \"smtp\", \"sendmail\" or \"outbox\""),
        )),
    }
}

fn resolve_smtp(
    smtp: &SmtpConfig,
    beside: &dyn Fn(PathBuf) -> PathBuf,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Smtp, Error> {
    let security = match smtp
        .security
        .as_deref()
        .map(str::trim)
        .unwrap_or("starttls")
    {
        "starttls" => Security::StartTls,
        "tls" => Security::Tls,
        "none" => Security::None,
        other => {
            return Err(bad(
                "[smtp].security",
                format!(
                    "{other:?} is not one of \"starttls\", \"tls\" (implicit, usually port 465) or \"none\""
                ),
            ));
        }
    };
    let username = smtp
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    if security == Security::None
        && username.is_some()
        && !smtp.allow_insecure_auth.unwrap_or(false)
    {
        return Err(bad(
            "[smtp].security",
            "is \"none\" but a username is set: the password would cross the network unencrypted. Use \"starttls\" or \"tls\", or set allow_insecure_auth = true for a relay on this machine".into(),
        ));
    }
    let password = match (&smtp.password_file, &smtp.password_env) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "[smtp].password_file",
                "and password_env are both set; keep one".into(),
            ));
        }
        (Some(file), None) => PasswordSource::File(beside(file.clone())),
        (None, env) => PasswordSource::Env(
            env.clone()
                .unwrap_or_else(|| "PAYREMIND_SMTP_PASSWORD".to_owned()),
        ),
    };
    let duration = |key: &str, value: Option<&str>, default: &str| {
        parse_duration(value.unwrap_or(default))
            .map_err(|m| bad(&format!("[smtp].{key}"), m))
            .and_then(|d| {
                d.to_std()
                    .map_err(|_| bad(&format!("[smtp].{key}"), "must not be negative".into()))
            })
    };
    let rate_limit = match smtp.rate_limit.as_deref().map(str::trim) {
        None | Some("none") => None,
        Some(text) => Some(parse_rate(text).map_err(|m| bad("[smtp].rate_limit", m))?),
    };
    let max_connections = smtp.max_connections.unwrap_or(4);
    if max_connections == 0 || max_connections > 64 {
        return Err(bad(
            "[smtp].max_connections",
            format!("{max_connections} is not between 1 and 64"),
        ));
    }
    Ok(Smtp {
        host: smtp.host.clone().unwrap_or_default().trim().to_owned(),
        port: smtp
            .port
            .unwrap_or(if security == Security::Tls { 465 } else { 587 }),
        security,
        username,
        password,
        ca_file: smtp.ca_file.clone().map(beside),
        timeout: duration("timeout", smtp.timeout.as_deref(), "30s")?,
        max_connections,
        rate_limit,
        attempts: smtp.attempts.unwrap_or(3).max(1),
        retry_delay: duration("retry_delay", smtp.retry_delay.as_deref(), "2s")?,
    })
}

/// A label the seller lists under two classes is a contradiction.
fn check_statuses(statuses: &Statuses, bad: &dyn Fn(&str, String) -> Error) -> Result<(), Error> {
    let mut claimed_by: HashMap<String, &str> = HashMap::new();
    for (key, labels) in [
        ("unpaid", &statuses.unpaid),
        ("paid", &statuses.paid),
        ("closed", &statuses.closed),
    ] {
        for label in labels.iter().flatten() {
            if let Some(other) = claimed_by.insert(normalize_label(label), key)
                && other != key
            {
                return Err(bad(
                    &format!("[statuses].{key}"),
                    format!(
                        "{label:?} is also listed under [statuses].{other}; a status can mean only one thing"
                    ),
                ));
            }
        }
    }
    Ok(())
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
        assert_eq!(
            settings.rules.len(),
            crate::decide::ladder::default_rules().len()
        );
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
        let settings = resolve("[shop]\nname = \"S\"\n").unwrap();
        let err = settings.ready_to_run().unwrap_err();
        assert!(err.to_string().contains("never guesses"), "{err}");
    }

    #[test]
    fn source_settings_are_validated() {
        let settings = resolve(&MINIMAL.replace(
            "[source]\n",
            "[source]\nformat = \"Shopify\"\nencoding = \"gbk\"\ndelimiter = \";\"\n",
        ))
        .unwrap();
        assert_eq!(settings.layout.format, Some(Layout::Shopify));
        assert_eq!(settings.encoding.map(Encoding::name), Some("GBK"));
        assert_eq!(settings.delimiter, Some(b';'));
        for (key, value) in [
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
