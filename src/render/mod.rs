//! Fourth stage: the planned template becomes a message. Templates are Tera text files whose
//! first line is `Subject: …`; the built-in English set is compiled in, and a seller's
//! `[templates].dir` overrides any of them (or adds new ones for custom rules) by file name.
//!
//! Every template sees the same context ([`MessageContext`]): `shop`, `buyer`, `order`. Mistakes
//! (syntax, a variable that does not exist) are found before anything is rendered for real, by
//! rendering each template once against a complete sample ([`Templates::check`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::{Settings, Shop};
use crate::decide::ladder::Action;
use crate::error::Error;
use crate::order::{BuyerType, Money, Order, StoreTime, Text};

pub mod format;
pub mod html;
pub mod language;

use self::format::Formats;
use crate::language::{self as languages, ENGLISH};

// `BUILT_IN_TEMPLATES`: every `templates/<language>/<name>.txt`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/built_in.rs"));

/// Built-in templates that are not a step (no `Subject:` line): the unsubscribe line appended
/// to every body.
pub const NOT_STEPS: &[&str] = &[OPT_OUT];

/// The one line every message ends with: how to stop these reminders
/// (`templates/<language>/opt_out.txt`). It sees `unsubscribe.url` (the https link for this
/// buyer, or empty) and `unsubscribe.mailto`.
pub const OPT_OUT: &str = "opt_out";

/// The built-in templates of `language`, name and source, every step `en` has: a step the
/// language lacks is the English one.
#[must_use]
pub fn built_in(language: &str) -> Vec<(&'static str, &'static str)> {
    let own = |lang: &str, name: &str| {
        BUILT_IN_TEMPLATES
            .iter()
            .find(|(l, n, _)| *l == lang && *n == name)
            .map(|(_, _, source)| *source)
    };
    let mut names: Vec<&'static str> = BUILT_IN_TEMPLATES
        .iter()
        .filter(|(l, _, _)| *l == ENGLISH || *l == language)
        .map(|(_, name, _)| *name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| Some((name, own(language, name).or_else(|| own(ENGLISH, name))?)))
        .collect()
}

/// The languages a run's templates are rendered in before the first message, and the shop's
/// own language: every language the shop could send, whatever layout the export turns out to
/// have (`layout`, when known already; else every layout's marketplace language could be the
/// shop's own).
#[must_use]
pub fn languages_to_check(
    settings: &Settings,
    layout: Option<crate::ingest::layout::Layout>,
) -> (Vec<&'static str>, &'static str) {
    let layout = layout.or(settings.layout.format);
    let language = crate::config::Languages::of_layout(layout);
    let default = settings.languages.default_for(language);
    let mut languages = settings.languages.enabled_for(language);
    if layout.is_none() {
        for other in crate::ingest::layout::Layout::ALL {
            let default = settings.languages.default_for(other.preset().language);
            if !languages.contains(&default) {
                languages.push(default);
            }
        }
    }
    (languages, default)
}

/// A rendered reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The subject line.
    pub subject: String,
    /// The plain-text body, ending with one newline.
    pub body: String,
}

/// The loaded template set: the built-in templates of every language, and the seller's folder
/// on top.
///
/// Where the text of a step in a language comes from, first found wins: the seller's
/// `<dir>/<language>/<step>.txt`; for the shop's own language (`[shop] language`) the seller's
/// flat `<dir>/<step>.txt` (as before languages); the built-in `templates/<language>/<step>.txt`.
/// A language without the step falls back to English, then to the shop's own language, and
/// the message is in the language it was found in.
pub struct Templates {
    tera: tera::Tera,
    /// Template key -> where it came from (a file path, or a built-in one). Keys:
    /// `<language>/<name>` (built-in), `own/<language>/<name>` and `own/<name>` (the seller's);
    /// HTML alternatives end in `.html`.
    origins: BTreeMap<String, String>,
    /// Every step name (built-in and the seller's), sorted.
    steps: BTreeSet<String>,
}

/// Where a step's text in a language comes from (see [`Templates`]).
fn keys(language: &str, default: &str, step: &str) -> [Option<String>; 3] {
    [
        Some(format!("own/{language}/{step}")),
        (language == default).then(|| format!("own/{step}")),
        Some(format!("{language}/{step}")),
    ]
}

impl Templates {
    /// Loads the built-in templates, then the seller's folder on top.
    ///
    /// # Errors
    /// The folder cannot be read, or a template does not parse or lacks its `Subject:` line.
    pub fn load(settings: &Settings) -> Result<Templates, Error> {
        // Only the languages a run can write in (English, the fallback, among them): parsing
        // templates is most of what a small run costs.
        let (mut languages, _) = languages_to_check(settings, None);
        languages.push(ENGLISH);
        Self::load_languages(settings, &languages)
    }

    /// [`Templates::load`] with the built-in templates of `languages` only.
    ///
    /// # Errors
    /// As [`Templates::load`].
    pub fn load_languages(settings: &Settings, languages: &[&str]) -> Result<Templates, Error> {
        // Key -> (source, origin).
        let mut sources: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (language, name, source) in BUILT_IN_TEMPLATES
            .iter()
            .filter(|(l, _, _)| languages.contains(l))
        {
            sources.insert(
                format!("{language}/{name}"),
                (
                    (*source).to_owned(),
                    format!("templates/{language}/{name}.txt (built-in)"),
                ),
            );
        }
        if let Some(dir) = &settings.templates_dir {
            let mut folders = vec![(String::from("own"), dir.clone())];
            for (language, folder) in language_folders(dir, settings.path.as_deref())? {
                folders.push((format!("own/{language}"), folder));
            }
            for (prefix, folder) in folders {
                for extension in ["html", "txt"] {
                    for (name, path) in
                        template_files(&folder, extension, settings.path.as_deref())?
                    {
                        let source =
                            std::fs::read_to_string(&path).map_err(|source| Error::Read {
                                path: path.clone(),
                                source,
                            })?;
                        let key = match extension {
                            "html" => format!("{prefix}/{name}.html"),
                            _ => format!("{prefix}/{name}"),
                        };
                        sources.insert(key, (source, path.display().to_string()));
                    }
                }
            }
        }
        let mut origins = BTreeMap::new();
        let mut steps = BTreeSet::new();
        let mut raw = Vec::with_capacity(sources.len());
        for (key, (source, origin)) in sources {
            let name = key.rsplit('/').next().unwrap_or_default();
            if !name.ends_with(".html") && !NOT_STEPS.contains(&name) {
                if !source.trim_start().starts_with("Subject:") {
                    return Err(Error::Template {
                        name: origin,
                        line: 1,
                        column: 1,
                        message: "the first line must be `Subject: …`".into(),
                    });
                }
                steps.insert(name.to_owned());
            }
            origins.insert(key.clone(), origin);
            raw.push((key, source));
        }
        let tera = compile(&raw, &origins)?;
        Ok(Templates {
            tera,
            origins,
            steps,
        })
    }

    /// Whether a step of that name exists, in any language.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.steps.contains(name)
    }

    /// Where template `key` came from (a file path, or `templates/<language>/<name>.txt
    /// (built-in)`); keys are `<language>/<name>`, `own/<name>`, `own/<language>/<name>`.
    #[must_use]
    pub fn origin(&self, key: &str) -> Option<&str> {
        self.origins.get(key).map(String::as_str)
    }

    /// The seller's HTML alternatives, as (language, step): `None` for the flat folder (the
    /// shop's own language).
    pub fn seller_html(&self) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.origins.keys().filter_map(|key| {
            let rest = key.strip_prefix("own/")?.strip_suffix(".html")?;
            Some(match rest.split_once('/') {
                Some((language, step)) => (Some(language), step),
                None => (None, rest),
            })
        })
    }

    /// Every step name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(String::as_str)
    }

    /// The template key and language that step `name` in `language` is written from, the shop's
    /// own language being `default`: the language's own text, else English, else the shop's.
    fn pick(
        &self,
        language: &'static str,
        default: &'static str,
        name: &str,
    ) -> Option<(String, &'static str)> {
        [language, ENGLISH, default].into_iter().find_map(|l| {
            keys(l, default, name)
                .into_iter()
                .flatten()
                .find(|key| self.origins.contains_key(key))
                .map(|key| (key, l))
        })
    }

    /// The language the reminder `name` for a buyer of `language` is written in: `language`,
    /// unless the step has no text in it (see [`Templates`]).
    #[must_use]
    pub fn language_of(
        &self,
        language: &'static str,
        default: &'static str,
        name: &str,
    ) -> &'static str {
        self.pick(language, default, name)
            .map_or(language, |(_, l)| l)
    }

    /// The HTML alternative of template `name` in `language`, when the seller wrote one.
    ///
    /// # Errors
    /// It does not render.
    pub fn render_html(
        &self,
        language: &'static str,
        default: &'static str,
        name: &str,
        context: &MessageContext<'_>,
    ) -> Result<Option<String>, Error> {
        let key = keys(language, default, &format!("{name}.html"))
            .into_iter()
            .take(2)
            .flatten()
            .find(|key| self.origins.contains_key(key));
        let Some(key) = key else {
            return Ok(None);
        };
        let origin = &self.origins[&key];
        let context = context.tera().map_err(|e| template_error(origin, &e))?;
        self.tera
            .render(&key, &context)
            .map(Some)
            .map_err(|e| template_error(origin, &e))
    }

    /// Checks that every rule's template exists, then renders `names` in each of `languages`
    /// against sample orders of every buyer type, with and without the optional values, so a
    /// typo in a variable is found before any real message, whichever branch of the template
    /// it hides in. With `complete`, a step some language has no text of its own for is an
    /// error naming the file to write (`check`); without, it is the English text (a run).
    ///
    /// # Errors
    /// The first rule naming a missing template, the first missing text (with `complete`), or
    /// the first template that does not render.
    pub fn check<'a>(
        &self,
        settings: &Settings,
        languages: &[&'static str],
        default: &'static str,
        names: impl IntoIterator<Item = &'a str>,
        complete: bool,
    ) -> Result<(), Error> {
        for (i, rule) in settings.rules.iter().enumerate() {
            if let Action::Template(name) = &rule.action
                && !self.contains(name)
            {
                return Err(Error::Setting {
                    path: settings
                        .path
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("<defaults>")),
                    setting: format!("[[rules]] #{}", i + 1),
                    message: format!(
                        "template {name:?} does not exist; known templates: {}",
                        self.names().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        let names: Vec<&str> = names.into_iter().collect();
        let used: Vec<&str> = settings
            .rules
            .iter()
            .filter_map(|rule| match &rule.action {
                Action::Template(name) => Some(name.as_str()),
                Action::Skip(_) => None,
            })
            // An offer step's words for a buyer without marketing consent.
            .chain([crate::decide::consent::PLAIN])
            .collect();
        let mut formats = Formats::default();
        for &language in languages {
            let samples = samples(&settings.shop, language, &mut formats)?;
            for name in &names {
                let Some((_, found)) = self.pick(language, default, name) else {
                    // A step only some languages have (the seller's own, written in one
                    // language folder) matters when the ladder can pick it.
                    if used.contains(name) {
                        return Err(self.missing(settings, language, name));
                    }
                    continue;
                };
                if complete && found != language {
                    return Err(self.missing(settings, language, name));
                }
                for sample in &samples {
                    self.render(found, default, name, sample)?;
                    self.render_html(found, default, name, sample)?;
                }
            }
        }
        Ok(())
    }

    /// The error for step `name`, which has no text in `language`.
    fn missing(&self, settings: &Settings, language: &str, name: &str) -> Error {
        let built_in = self.origins.contains_key(&format!("{ENGLISH}/{name}"));
        let own = settings
            .templates_dir
            .as_ref()
            .map(|dir| dir.join(language).join(format!("{name}.txt")));
        let message = match (built_in, &own) {
            (true, Some(own)) => format!(
                "templates/{language}/{name}.txt is missing: payremind has no {language} text of this step; write {}, or remove {language} from [shop] languages",
                own.display()
            ),
            (true, None) => format!(
                "templates/{language}/{name}.txt is missing: payremind has no {language} text of this step; write your own in a folder set as [templates] dir ({language}/{name}.txt), or remove {language} from [shop] languages"
            ),
            (false, Some(own)) => format!(
                "{} is missing: your step {name:?} has no {language} text; write it, or remove {language} from [shop] languages",
                own.display()
            ),
            (false, None) => format!("step {name:?} has no {language} text"),
        };
        Error::Template {
            name: format!("language {language}"),
            line: 1,
            column: 1,
            message,
        }
    }

    /// Renders template `name` for one order, in `language` (see [`Templates::language_of`]).
    ///
    /// # Errors
    /// The template does not render (an unknown variable, a filter on the wrong type).
    pub fn render(
        &self,
        language: &'static str,
        default: &'static str,
        name: &str,
        context: &MessageContext<'_>,
    ) -> Result<Message, Error> {
        let Some((key, written)) = self.pick(language, default, name) else {
            return Err(Error::Template {
                name: name.to_owned(),
                line: 1,
                column: 1,
                message: format!("template {name:?} does not exist"),
            });
        };
        let origin = &self.origins[&key];
        let context = context.tera().map_err(|e| template_error(origin, &e))?;
        let text = self
            .tera
            .render(&key, &context)
            .map_err(|e| template_error(origin, &e))?;
        let text = text.trim_start();
        let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
        let subject = first.trim_start_matches("Subject:").trim();
        // Every body ends with the way out, in the language the message is written in (the
        // seller's own `opt_out.txt` first, as for any template).
        let opt_out = match self.pick(written, default, OPT_OUT) {
            Some((key, _)) => self
                .tera
                .render(&key, &context)
                .map_err(|e| template_error(&self.origins[&key], &e))?,
            None => String::new(),
        };
        let rest = rest.trim_matches(|c| c == '\n' || c == '\r');
        let opt_out = opt_out.trim();
        Ok(Message {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            body: if opt_out.is_empty() {
                format!("{rest}\n")
            } else {
                format!("{rest}\n\n{opt_out}\n")
            },
        })
    }
}

/// Every template compiled at once: Tera checks the whole set each time one is added, so one
/// by one would cost the square of their number (seven languages make a hundred templates).
fn compile(
    raw: &[(String, String)],
    origins: &BTreeMap<String, String>,
) -> Result<tera::Tera, Error> {
    let new = || {
        let mut tera = tera::Tera::new();
        // Plain text is never escaped; the HTML alternatives (named `<step>.html`) always are.
        tera.autoescape_on(vec![".html"]);
        tera
    };
    let mut tera = new();
    let Err(batch) = tera.add_raw_templates(raw.iter().map(|(k, s)| (k.as_str(), s.as_str())))
    else {
        return Ok(tera);
    };
    // Which one: each alone (only on this error path).
    for (key, source) in raw {
        if let Err(e) = new().add_raw_template(key, source) {
            return Err(template_error(&origins[key], &e));
        }
    }
    Err(template_error("templates", &batch))
}

/// The seller's language folders (`<dir>/de/`, `<dir>/pt_BR/`), by canonical tag.
///
/// # Errors
/// The folder cannot be read, or a folder in it is not named for a language.
fn language_folders(
    dir: &Path,
    config: Option<&Path>,
) -> Result<Vec<(&'static str, PathBuf)>, Error> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // Said by `template_files`, with the setting to fix.
        return Ok(Vec::new());
    };
    let mut folders = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| Error::Read {
                path: dir.to_owned(),
                source,
            })?
            .path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let language = languages::canonical(name).ok_or_else(|| Error::Setting {
            path: config.map_or_else(|| PathBuf::from("<defaults>"), Path::to_owned),
            setting: "[templates].dir".to_owned(),
            message: format!(
                "the folder {} is not named for a language; a folder in the templates folder holds one language's templates and is named by its tag, like de or pt-BR",
                path.display()
            ),
        })?;
        folders.push((language, path));
    }
    folders.sort();
    Ok(folders)
}

fn template_files(
    dir: &Path,
    extension: &str,
    config: Option<&Path>,
) -> Result<Vec<(String, PathBuf)>, Error> {
    let read_error = |source| Error::Read {
        path: dir.to_owned(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(|source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            // The folder the config names is not there: say which setting, and where it looked.
            Error::Setting {
                path: config.map_or_else(|| PathBuf::from("<defaults>"), Path::to_owned),
                setting: "[templates].dir".to_owned(),
                message: format!(
                    "the folder {} does not exist; create it (`payremind init` writes the built-in templates into templates/), or correct the path (it is relative to the config file)",
                    dir.display()
                ),
            }
        } else {
            read_error(source)
        }
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(read_error)?.path();
        if path.extension().is_some_and(|e| e == extension)
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            files.push((stem.to_owned(), path.clone()));
        }
    }
    files.sort();
    Ok(files)
}

fn template_error(origin: &str, e: &tera::Error) -> Error {
    match e.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            Error::Template {
                name: origin.to_owned(),
                line: report.span().start_line,
                column: report.span().start_col + 1,
                message: report.message().replace('\n', " "),
            }
        }
        _ => Error::Template {
            name: origin.to_owned(),
            line: 1,
            column: 1,
            message: crate::error::chain(e),
        },
    }
}

/// What a template can use: `shop.*`, `buyer.*`, `order.*`.
#[derive(Debug)]
pub struct MessageContext<'a> {
    /// `[shop]`: name, sender, payment_help_url, discount_percent, returning_perk, currency,
    /// low_stock_products, plus `promo_ends` (text).
    pub shop: ShopContext<'a>,
    /// The buyer.
    pub buyer: BuyerContext,
    /// The order.
    pub order: OrderContext,
    /// How this buyer stops the reminders: `url` (https, or empty) and `mailto`.
    pub unsubscribe: UnsubscribeContext,
}

/// `unsubscribe` in a template (the opt-out line).
#[derive(Debug, Serialize)]
pub struct UnsubscribeContext {
    /// The shop's unsubscribe link for this buyer (`{token}` filled in); empty when none.
    pub url: String,
    /// The address that takes "unsubscribe" mails.
    pub mailto: String,
}

/// `shop` in a template, made into a template value once: every message of a run shares it
/// (serializing it again for each reminder was half of what rendering cost).
#[derive(Debug, Clone)]
pub struct ShopContext<'a> {
    shop: &'a Shop,
    value: tera::Value,
}

/// What `shop` holds.
#[derive(Serialize)]
struct ShopFields<'a> {
    /// The `[shop]` settings.
    #[serde(flatten)]
    shop: &'a Shop,
    /// When the promotion ends, in store time; empty when none.
    promo_ends: String,
    /// The next `[shop].dispatch_times` cutoff, in store time; empty when none is set.
    next_dispatch: String,
}

impl<'a> ShopContext<'a> {
    /// The shop's settings as templates see them.
    ///
    /// # Errors
    /// The settings cannot be made into a template value.
    pub fn new(shop: &'a Shop, now: DateTime<Utc>) -> Result<Self, Error> {
        let next_dispatch = shop
            .dispatch
            .next_cutoff(now)
            .map(|c| shop.dispatch.local(c).fixed_offset());
        Self::with(shop, shop.promo_ends.as_ref(), next_dispatch.as_ref())
    }

    fn with(
        shop: &'a Shop,
        promo_ends: Option<&StoreTime>,
        next_dispatch: Option<&StoreTime>,
    ) -> Result<Self, Error> {
        let fields = ShopFields {
            shop,
            promo_ends: promo_ends.map(store_time).unwrap_or_default(),
            next_dispatch: next_dispatch.map(store_time).unwrap_or_default(),
        };
        let value = tera::Value::try_from_serializable(&fields)
            .map_err(|e| template_error("[shop]", &e))?;
        Ok(ShopContext { shop, value })
    }
}

/// `buyer` in a template.
#[derive(Debug, Serialize)]
pub struct BuyerContext {
    /// Name as exported; may be empty.
    pub name: Text,
    /// `new`, `returning` or `loyal`.
    #[serde(rename = "type")]
    pub kind: BuyerType,
    /// The address the message goes to.
    pub email: String,
    /// Country as exported; may be empty.
    pub country: Text,
}

/// `order` in a template.
#[derive(Debug, Serialize)]
pub struct OrderContext {
    /// Order number.
    pub id: Text,
    /// The total as the message's language writes it (`$128.00`, `1.234,50 €`, `¥128.00`);
    /// empty when the export has no total.
    pub total: String,
    /// The total as a plain decimal, as exported (`1234.50`); empty when no total.
    pub total_amount: String,
    /// The total's currency, its ISO code (`USD`); empty when no total.
    pub currency: String,
    /// The total less `[shop].discount_percent`, written like `total`; empty when no total or
    /// no discount.
    pub discounted_total: String,
    /// Product lines.
    pub products: Vec<Text>,
    /// When it was placed, store time (`2026-11-21 19:00`).
    pub created_at: String,
    /// Hours since it was placed, whole.
    pub age_hours: i64,
    /// When it auto-closes, in the store's zone, as the message's language writes a date and
    /// time (`Nov 23, 2026, 5:05 PM GMT+8`); empty when it does not.
    pub close_at: String,
    /// Time left until it closes, as the language says it (`1 hr, 30 min`, `1小时30分钟`);
    /// empty when it does not close.
    pub time_left: String,
    /// How the buyer chose to pay, as exported; may be empty.
    pub payment_method: Text,
    /// How many reminders about this order were sent before this one (from the ledger): a
    /// "last reminder" is only the last of several when this is above 0.
    pub reminders_sent: usize,
    /// The shop's next dispatch cutoff when it is still today (store day), like `17:00
    /// (UTC+08:00)`: paid by then, the parcel leaves today. Empty when no cutoff is left today.
    pub ships_today_if_paid_by: String,
}

/// `2 h 5 min`, `45 min`: how a buyer reads a deadline.
fn time_left(left: TimeDelta) -> String {
    let minutes = left.num_minutes().max(0);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The next cutoff when it is on the shop's day of `now`, as a time of day with its offset.
fn ships_today_if_paid_by(shop: &Shop, now: DateTime<Utc>) -> String {
    let dispatch = &shop.dispatch;
    dispatch
        .next_cutoff(now)
        .map(|c| dispatch.local(c))
        .filter(|c| c.date_naive() == dispatch.local(now).date_naive())
        .map(|c| c.format("%H:%M (UTC%:z)").to_string())
        .unwrap_or_default()
}

/// A deadline a buyer abroad can read: the shop's local time with its UTC offset (zone
/// abbreviations like CST mean different things in different countries).
fn store_time(t: &StoreTime) -> String {
    t.format("%Y-%m-%d %H:%M (UTC%:z)").to_string()
}

impl<'a> MessageContext<'a> {
    /// The context as Tera takes it; `shop` is shared, not copied.
    fn tera(&self) -> Result<tera::Context, tera::Error> {
        let mut context = tera::Context::new();
        context.insert_value("shop", self.shop.value.clone());
        context.insert_value("buyer", tera::Value::try_from_serializable(&self.buyer)?);
        context.insert_value("order", tera::Value::try_from_serializable(&self.order)?);
        context.insert_value(
            "unsubscribe",
            tera::Value::try_from_serializable(&self.unsubscribe)?,
        );
        Ok(context)
    }

    /// The context for `order`, sent to `email`, evaluated at `now`, after `reminders_sent`
    /// earlier reminders about it, written in `language` (amounts, deadlines and durations as
    /// it writes them, with the run's `formats`).
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        shop: &ShopContext<'a>,
        order: &Order,
        buyer_type: BuyerType,
        email: String,
        now: DateTime<Utc>,
        reminders_sent: usize,
        language: &'static str,
        formats: &mut Formats,
    ) -> Self {
        let left = order.close_at.map(|c| c.signed_duration_since(now));
        let discounted = order
            .total
            .as_ref()
            .zip(shop.shop.discount_percent)
            .map(|(t, percent)| t.discounted(percent));
        let unsubscribe = UnsubscribeContext {
            url: shop.shop.unsubscribe.url_for(&email),
            mailto: shop.shop.unsubscribe.mailto.clone(),
        };
        MessageContext {
            unsubscribe,
            shop: shop.clone(),
            buyer: BuyerContext {
                // One line each, as they may end up in the subject (a line break there would
                // cut it, the rest falling into the body).
                name: crate::line::header(&order.buyer_name, crate::line::MAX_HEADER_CHARS).into(),
                kind: buyer_type,
                email,
                country: order.country.clone(),
            },
            order: OrderContext {
                id: crate::line::header(&order.id, crate::line::MAX_HEADER_CHARS).into(),
                total: order
                    .total
                    .as_ref()
                    .map(|t| formats.money(language, t))
                    .unwrap_or_default(),
                total_amount: order
                    .total
                    .as_ref()
                    .map(|t| t.amount.to_string())
                    .unwrap_or_default(),
                currency: order
                    .total
                    .as_ref()
                    .map(|t| t.currency.to_string())
                    .unwrap_or_default(),
                discounted_total: discounted
                    .map(|t| formats.money(language, &t))
                    .unwrap_or_default(),
                products: order.products.clone(),
                created_at: order.created_at.format("%Y-%m-%d %H:%M").to_string(),
                age_hours: order.age(now).num_hours(),
                close_at: order
                    .close_at
                    .as_ref()
                    .map(|c| formats.date_time(language, c))
                    .unwrap_or_default(),
                time_left: left
                    .map(|l| formats.time_left(language, l))
                    .unwrap_or_default(),
                payment_method: order.payment_method.clone(),
                reminders_sent,
                ships_today_if_paid_by: ships_today_if_paid_by(shop.shop, now),
            },
        }
    }
}

/// Sample contexts that walk every branch a template is likely to have: each buyer type, with
/// every optional value filled, and with every optional value empty.
pub(crate) fn samples<'s>(
    shop: &'s Shop,
    language: &'static str,
    formats: &mut Formats,
) -> Result<Vec<MessageContext<'s>>, Error> {
    let now = DateTime::<Utc>::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    let zone = chrono_tz::UTC;
    let full = Order {
        line: 2,
        id: "1001".into(),
        buyer: "sample".into(),
        buyer_name: "Sample Buyer".into(),
        email: "buyer@example.com".into(),
        country: "US".into(),
        region: Text::default(),
        buyer_zone: Text::default(),
        language: Text::default(),
        status_label: "pending".into(),
        status: crate::order::StatusClass::Unpaid,
        created_at: (now - TimeDelta::hours(5))
            .with_timezone(&zone)
            .fixed_offset(),
        paid_at: None,
        total: Some(Money {
            amount: Decimal::new(12_800, 2),
            currency: "USD".into(),
        }),
        channel: "web".into(),
        products: vec!["Sample product".into(), "Second product".into()],
        rows: 2,
        prior_paid_orders: None,
        payment_method: "Direct bank transfer".into(),
        fulfillment: Text::default(),
        tracked: false,
        payment_terms: Text::default(),
        tags: Text::default(),
        cancelled: false,
        consent: crate::order::Consent::NoColumn,
        close_at: Some(
            (now + TimeDelta::hours(2))
                .with_timezone(&zone)
                .fixed_offset(),
        ),
    };
    let bare = Order {
        buyer_name: Text::default(),
        country: Text::default(),
        total: None,
        products: Vec::new(),
        close_at: None,
        payment_method: Text::default(),
        ..full.clone()
    };
    // The first sample has a promotion's end, whether the shop has one or not.
    let promo_ends = (now + TimeDelta::days(2))
        .with_timezone(&zone)
        .fixed_offset();
    let next_dispatch = (now + TimeDelta::hours(3))
        .with_timezone(&zone)
        .fixed_offset();
    let with_promo = ShopContext::with(shop, Some(&promo_ends), Some(&next_dispatch))?;
    let as_set = ShopContext::new(shop, now)?;
    let mut contexts = Vec::new();
    for buyer_type in [BuyerType::New, BuyerType::Returning, BuyerType::Loyal] {
        for order in [&full, &bare] {
            let shop = if contexts.is_empty() {
                &with_promo
            } else {
                &as_set
            };
            // The full sample was reminded before, the bare one not: both branches of a
            // "last reminder" sentence render.
            let sent = usize::from(std::ptr::eq(order, &full));
            contexts.push(MessageContext::new(
                shop,
                order,
                buyer_type,
                order.email.to_string(),
                now,
                sent,
                language,
                formats,
            ));
        }
    }
    Ok(contexts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Settings};

    fn settings() -> Settings {
        let mut settings = Settings::resolve(Config::default(), None).unwrap();
        settings.shop.name = "Lotus Leaf Tea".into();
        settings.shop.payment_help_url = "https://lotusleaf.example/pay".into();
        settings.shop.returning_perk = "free express shipping".into();
        settings.shop.currency = "USD".into();
        settings.shop.discount_percent = Some(rust_decimal::Decimal::from(3));
        settings.shop.unsubscribe.mailto = "orders@lotusleaf.example".into();
        settings
    }

    #[test]
    fn every_built_in_message_names_shop_order_buyer_and_amount() {
        let settings = settings();
        let templates = Templates::load(&settings).unwrap();
        let samples = samples(&settings.shop, ENGLISH, &mut Formats::default()).unwrap();
        let context = &samples[0];
        for name in templates.names() {
            let message = templates.render(ENGLISH, ENGLISH, name, context).unwrap();
            let text = format!("Subject: {}\n\n{}", message.subject, message.body);
            for needle in ["Lotus Leaf Tea", "1001", "Hello Sample Buyer,", "$128.00"] {
                assert!(text.contains(needle), "{name} lacks {needle:?}:\n{text}");
            }
            insta::assert_snapshot!(name, text);
        }
    }

    #[test]
    fn every_language_has_every_step_and_each_renders_for_every_sample() {
        let settings = settings();
        let templates = Templates::load_languages(&settings, languages::shipped()).unwrap();
        let mut formats = Formats::default();
        let english: Vec<&str> = built_in(ENGLISH).into_iter().map(|(n, _)| n).collect();
        assert!(
            languages::shipped().len() >= 7,
            "{:?}",
            languages::shipped()
        );
        for &language in languages::shipped() {
            let samples = samples(&settings.shop, language, &mut formats).unwrap();
            for name in &english {
                assert!(
                    BUILT_IN_TEMPLATES
                        .iter()
                        .any(|(l, n, _)| *l == language && n == name),
                    "templates/{language}/{name}.txt is missing"
                );
            }
            for (_, name, _) in BUILT_IN_TEMPLATES
                .iter()
                .filter(|(l, n, _)| *l == language && !NOT_STEPS.contains(n))
            {
                assert_eq!(templates.language_of(language, ENGLISH, name), language);
                for sample in &samples {
                    let message = templates
                        .render(language, ENGLISH, name, sample)
                        .unwrap_or_else(|e| panic!("{language}/{name}: {e}"));
                    assert!(!message.subject.is_empty(), "{language}/{name}");
                    assert!(
                        !message.body.contains("{{") && !message.body.contains("{%"),
                        "{language}/{name}: {}",
                        message.body
                    );
                }
                // The full sample names the order and its products in every language.
                let body = templates
                    .render(language, ENGLISH, name, &samples[0])
                    .unwrap()
                    .body;
                for needle in ["1001", "Sample product"] {
                    assert!(
                        body.contains(needle),
                        "{language}/{name} lacks {needle}:\n{body}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_built_in_step_has_an_html_alternative_with_the_same_words() {
        let settings = settings();
        let templates = Templates::load_languages(&settings, languages::shipped()).unwrap();
        let mut formats = Formats::default();
        for &language in languages::shipped() {
            for sample in &samples(&settings.shop, language, &mut formats).unwrap() {
                for name in templates.names() {
                    let body = templates
                        .render(language, ENGLISH, name, sample)
                        .unwrap()
                        .body;
                    let html = html::from_text(&body, language);
                    assert_eq!(
                        html::visible_words(&html),
                        html::words(&body),
                        "{language}/{name}"
                    );
                    assert!(
                        html.contains(&format!("<html lang=\"{language}\"")),
                        "{language}/{name}"
                    );
                }
            }
        }
    }

    /// Every message ends with the opt-out line of its own language.
    #[test]
    fn every_language_ends_with_its_own_opt_out_line() {
        let settings = settings();
        let templates = Templates::load_languages(&settings, languages::shipped()).unwrap();
        let mut formats = Formats::default();
        for &language in languages::shipped() {
            let samples = samples(&settings.shop, language, &mut formats).unwrap();
            let line = templates
                .tera
                .render(
                    &format!("{language}/{OPT_OUT}"),
                    &samples[0].tera().unwrap(),
                )
                .unwrap();
            let body = templates
                .render(language, ENGLISH, "gentle", &samples[0])
                .unwrap()
                .body;
            assert!(!line.trim().is_empty(), "{language}");
            assert!(
                body.ends_with(&format!("\n\n{}\n", line.trim())),
                "{language}: {body}"
            );
            assert!(
                body.contains(&settings.shop.unsubscribe.mailto),
                "{language}: {body}"
            );
        }
    }

    /// The closing step in each language: the total, the deadline and the time left written
    /// the language's way inside its own sentences.
    #[test]
    fn the_closing_step_in_each_language() {
        let settings = settings();
        let templates = Templates::load_languages(&settings, languages::shipped()).unwrap();
        let mut formats = Formats::default();
        let mut out = String::new();
        for &language in languages::shipped() {
            let samples = samples(&settings.shop, language, &mut formats).unwrap();
            for name in ["closing_soon", "discount"] {
                let message = templates
                    .render(language, ENGLISH, name, &samples[0])
                    .unwrap();
                out.push_str(&format!(
                    "=== {language}/{name}\nSubject: {}\n\n{}\n",
                    message.subject, message.body
                ));
            }
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn every_built_in_message_lists_the_orders_products() {
        let settings = settings();
        let templates = Templates::load(&settings).unwrap();
        let samples = samples(&settings.shop, ENGLISH, &mut Formats::default()).unwrap();
        for name in templates.names() {
            let body = templates
                .render(ENGLISH, ENGLISH, name, &samples[0])
                .unwrap()
                .body;
            for product in ["Sample product", "Second product"] {
                assert!(body.contains(product), "{name} lacks {product:?}:\n{body}");
            }
        }
    }

    #[test]
    fn no_built_in_message_promises_what_the_shop_did_not_set() {
        let mut settings = settings();
        settings.shop.returning_perk = String::new();
        settings.shop.discount_percent = None;
        let templates = Templates::load(&settings).unwrap();
        let promises = [
            "% off",
            "something for",
            "ship within",
            "ships within",
            "24 h",
            "gift",
            "member",
            "benefit",
            "popular",
            "in stock",
            "at once",
        ];
        for context in samples(&settings.shop, ENGLISH, &mut Formats::default()).unwrap() {
            for name in templates.names() {
                let text = templates.render(ENGLISH, ENGLISH, name, &context).unwrap();
                let text = format!("{}\n{}", text.subject, text.body).to_lowercase();
                for promise in promises {
                    assert!(
                        !text.contains(promise),
                        "{name} promises {promise:?}:\n{text}"
                    );
                }
            }
        }
        settings.shop.ships_within = "2 working days".into();
        settings.shop.gift = "a tea sample".into();
        settings.shop.member_benefits = "free shipping".into();
        let templates = Templates::load(&settings).unwrap();
        let samples = samples(&settings.shop, ENGLISH, &mut Formats::default()).unwrap();
        let render = |name: &str| {
            templates
                .render(ENGLISH, ENGLISH, name, &samples[0])
                .unwrap()
                .body
        };
        assert!(render("popular").contains("ships within 2 working days"));
        assert!(render("promo_ending").contains("we will add a tea sample to your parcel"));
        assert!(render("loyal").contains("you get free shipping on this order"));
    }

    #[test]
    fn the_last_reminder_says_so_only_after_an_earlier_one() {
        let settings = settings();
        let templates = Templates::load(&settings).unwrap();
        let samples = samples(&settings.shop, ENGLISH, &mut Formats::default()).unwrap();
        let last = "This is our last reminder";
        // samples[0] follows an earlier reminder, samples[1] does not.
        assert!(
            templates
                .render(ENGLISH, ENGLISH, "discount", &samples[0])
                .unwrap()
                .body
                .contains(last)
        );
        assert!(
            !templates
                .render(ENGLISH, ENGLISH, "discount", &samples[1])
                .unwrap()
                .body
                .contains(last)
        );
    }

    #[test]
    fn deadlines_read_like_a_person_writes_them() {
        assert_eq!(time_left(TimeDelta::minutes(45)), "45 min");
        assert_eq!(time_left(TimeDelta::minutes(120)), "2 h");
        assert_eq!(time_left(TimeDelta::minutes(125)), "2 h 5 min");
        assert_eq!(time_left(TimeDelta::minutes(-5)), "0 min");
    }
}
