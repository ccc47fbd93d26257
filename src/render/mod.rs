//! Fourth stage: the planned template becomes a message. Templates are Tera text files whose
//! first line is `Subject: …`; the built-in English set is compiled in, and a seller's
//! `[templates].dir` overrides any of them (or adds new ones for custom rules) by file name.
//!
//! Every template sees the same context ([`MessageContext`]): `shop`, `buyer`, `order`. Mistakes
//! (syntax, a variable that does not exist) are found before anything is rendered for real, by
//! rendering each template once against a complete sample ([`Templates::check`]).

pub mod html;
pub mod opt_out;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::{Settings, Shop};
use crate::decide::ladder::Action;
use crate::error::Error;
use crate::order::{BuyerType, Money, Order, StoreTime, Text};

/// The language of the messages (every message is English until messages carry their own).
pub const LANGUAGE: &str = "en";

/// The built-in templates, one per playbook step: name and source.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("gentle", include_str!("../../templates/en/gentle.txt")),
    (
        "bank_transfer",
        include_str!("../../templates/en/bank_transfer.txt"),
    ),
    (
        "payment_help",
        include_str!("../../templates/en/payment_help.txt"),
    ),
    ("popular", include_str!("../../templates/en/popular.txt")),
    ("discount", include_str!("../../templates/en/discount.txt")),
    (
        "low_stock",
        include_str!("../../templates/en/low_stock.txt"),
    ),
    (
        "promo_ending",
        include_str!("../../templates/en/promo_ending.txt"),
    ),
    (
        "missed_inquiry",
        include_str!("../../templates/en/missed_inquiry.txt"),
    ),
    (
        "closing_soon",
        include_str!("../../templates/en/closing_soon.txt"),
    ),
    (
        "returning_perk",
        include_str!("../../templates/en/returning_perk.txt"),
    ),
    ("loyal", include_str!("../../templates/en/loyal.txt")),
];

/// A rendered reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The subject line.
    pub subject: String,
    /// The plain-text body, ending with one newline.
    pub body: String,
}

/// The loaded template set.
pub struct Templates {
    tera: tera::Tera,
    /// Template name -> where it came from (a file path, or `built-in`).
    origins: BTreeMap<String, String>,
}

impl Templates {
    /// Loads the built-in templates, then the seller's folder on top.
    ///
    /// # Errors
    /// The folder cannot be read, or a template does not parse or lacks its `Subject:` line.
    pub fn load(settings: &Settings) -> Result<Templates, Error> {
        let mut sources: BTreeMap<String, (String, String)> = BUILT_IN
            .iter()
            .map(|(name, source)| {
                (
                    (*name).to_owned(),
                    ((*source).to_owned(), format!("{name} (built-in)")),
                )
            })
            .collect();
        let mut html = BTreeMap::new();
        if let Some(dir) = &settings.templates_dir {
            for (name, path) in template_files(dir, "html", settings.path.as_deref())? {
                let source = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                html.insert(name, (source, path.display().to_string()));
            }
            for (name, path) in template_files(dir, "txt", settings.path.as_deref())? {
                let source = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                sources.insert(name, (source, path.display().to_string()));
            }
        }
        let mut tera = tera::Tera::new();
        // Plain text is never escaped; the HTML alternatives (named `<step>.html`) always are.
        tera.autoescape_on(vec![".html"]);
        let mut origins = BTreeMap::new();
        // The opt-out line every body ends with (not a step: no Subject line).
        for (language, source) in opt_out::BUILT_IN {
            tera.add_raw_template(&opt_out::name(language), source)
                .map_err(|e| template_error(&format!("{language}/opt_out.txt (built-in)"), &e))?;
        }
        for (name, (source, origin)) in html {
            let key = format!("{name}.html");
            tera.add_raw_template(&key, &source)
                .map_err(|e| template_error(&origin, &e))?;
            origins.insert(key, origin);
        }
        for (name, (source, origin)) in sources {
            if name.ends_with(".html") {
                continue;
            }
            if !source.trim_start().starts_with("Subject:") {
                return Err(Error::Template {
                    name: origin,
                    line: 1,
                    column: 1,
                    message: "the first line must be `Subject: …`".into(),
                });
            }
            tera.add_raw_template(&name, &source)
                .map_err(|e| template_error(&origin, &e))?;
            origins.insert(name, origin);
        }
        Ok(Templates { tera, origins })
    }

    /// Whether a template of that name exists.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.origins.contains_key(name)
    }

    /// Where template `name` came from: a file path, or `<name> (built-in)`.
    #[must_use]
    pub fn origin(&self, name: &str) -> Option<&str> {
        self.origins.get(name).map(String::as_str)
    }

    /// Every template name, sorted (HTML alternatives are `<name>.html`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.origins.keys().map(String::as_str)
    }

    /// The HTML alternative of template `name`, when the seller wrote one.
    ///
    /// # Errors
    /// It does not render.
    pub fn render_html(
        &self,
        name: &str,
        context: &MessageContext<'_>,
    ) -> Result<Option<String>, Error> {
        let key = format!("{name}.html");
        let Some(origin) = self.origins.get(&key) else {
            return Ok(None);
        };
        let context = context.tera().map_err(|e| template_error(origin, &e))?;
        self.tera
            .render(&key, &context)
            .map(Some)
            .map_err(|e| template_error(origin, &e))
    }

    /// Checks that every rule's template exists, then renders `names` against sample orders of
    /// every buyer type, with and without the optional values, so a typo in a variable is found
    /// before any real message, whichever branch of the template it hides in.
    ///
    /// # Errors
    /// The first rule naming a missing template, or the first template that does not render.
    pub fn check<'a>(
        &self,
        settings: &Settings,
        names: impl IntoIterator<Item = &'a str>,
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
        let samples = samples(&settings.shop)?;
        for name in names {
            for sample in &samples {
                match name.strip_suffix(".html") {
                    Some(step) => {
                        self.render_html(step, sample)?;
                    }
                    None => {
                        self.render(name, sample)?;
                        self.render_html(name, sample)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Renders template `name` for one order.
    ///
    /// # Errors
    /// The template does not render (an unknown variable, a filter on the wrong type).
    pub fn render(&self, name: &str, context: &MessageContext<'_>) -> Result<Message, Error> {
        let origin = self.origins.get(name).map_or(name, String::as_str);
        let context = context.tera().map_err(|e| template_error(origin, &e))?;
        let text = self
            .tera
            .render(name, &context)
            .map_err(|e| template_error(origin, &e))?;
        let text = text.trim_start();
        let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
        let subject = first.trim_start_matches("Subject:").trim();
        // Every body ends with the way out, in the message's language.
        let opt_out = self
            .tera
            .render(&opt_out::name(opt_out::language(LANGUAGE)), &context)
            .map_err(|e| template_error("opt_out.txt (built-in)", &e))?;
        Ok(Message {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            body: format!(
                "{}\n\n{}\n",
                rest.trim_matches(|c| c == '\n' || c == '\r'),
                opt_out.trim()
            ),
        })
    }
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
    /// `128.00 USD`; empty when the export has no total.
    pub total: String,
    /// The total less `[shop].discount_percent`; empty when no total or no discount.
    pub discounted_total: String,
    /// Product lines.
    pub products: Vec<Text>,
    /// When it was placed, store time (`2026-11-21 19:00`).
    pub created_at: String,
    /// Hours since it was placed, whole.
    pub age_hours: i64,
    /// When it auto-closes, store time with zone; empty when it does not.
    pub close_at: String,
    /// Time left until it closes, like `1 h 30 min`; empty when it does not close.
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
    /// earlier reminders about it.
    #[must_use]
    pub fn new(
        shop: &ShopContext<'a>,
        order: &Order,
        buyer_type: BuyerType,
        email: String,
        now: DateTime<Utc>,
        reminders_sent: usize,
    ) -> Self {
        let money = |m: Option<&Money>| m.map(ToString::to_string).unwrap_or_default();
        let left = order.close_at.map(|c| c.signed_duration_since(now));
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
                total: money(order.total.as_ref()),
                discounted_total: money(
                    order
                        .total
                        .as_ref()
                        .zip(shop.shop.discount_percent)
                        .map(|(t, percent)| t.discounted(percent))
                        .as_ref(),
                ),
                products: order.products.clone(),
                created_at: order.created_at.format("%Y-%m-%d %H:%M").to_string(),
                age_hours: order.age(now).num_hours(),
                close_at: order.close_at.as_ref().map(store_time).unwrap_or_default(),
                time_left: left.map(time_left).unwrap_or_default(),
                payment_method: order.payment_method.clone(),
                reminders_sent,
                ships_today_if_paid_by: ships_today_if_paid_by(shop.shop, now),
            },
        }
    }
}

/// Sample contexts that walk every branch a template is likely to have: each buyer type, with
/// every optional value filled, and with every optional value empty.
pub(crate) fn samples(shop: &Shop) -> Result<Vec<MessageContext<'_>>, Error> {
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
        let samples = samples(&settings.shop).unwrap();
        let context = &samples[0];
        for (name, _) in BUILT_IN {
            let message = templates.render(name, context).unwrap();
            let text = format!("Subject: {}\n\n{}", message.subject, message.body);
            for needle in [
                "Lotus Leaf Tea",
                "1001",
                "Hello Sample Buyer,",
                "128.00 USD",
            ] {
                assert!(text.contains(needle), "{name} lacks {needle:?}:\n{text}");
            }
            insta::assert_snapshot!(*name, text);
        }
    }

    #[test]
    fn every_built_in_step_has_an_html_alternative_with_the_same_words() {
        let settings = settings();
        let templates = Templates::load(&settings).unwrap();
        for sample in &samples(&settings.shop).unwrap() {
            for (name, _) in BUILT_IN {
                let body = templates.render(name, sample).unwrap().body;
                let html = html::from_text(&body, LANGUAGE);
                assert_eq!(html::visible_words(&html), html::words(&body), "{name}");
                assert!(html.contains("<html lang=\"en\""), "{name}");
            }
        }
    }

    #[test]
    fn every_built_in_message_lists_the_orders_products() {
        let settings = settings();
        let templates = Templates::load(&settings).unwrap();
        let samples = samples(&settings.shop).unwrap();
        for (name, _) in BUILT_IN {
            let body = templates.render(name, &samples[0]).unwrap().body;
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
        for context in samples(&settings.shop).unwrap() {
            for (name, _) in BUILT_IN {
                let text = templates.render(name, &context).unwrap();
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
        let samples = samples(&settings.shop).unwrap();
        let render = |name: &str| templates.render(name, &samples[0]).unwrap().body;
        assert!(render("popular").contains("ships within 2 working days"));
        assert!(render("promo_ending").contains("we will add a tea sample to your parcel"));
        assert!(render("loyal").contains("you get free shipping on this order"));
    }

    #[test]
    fn the_last_reminder_says_so_only_after_an_earlier_one() {
        let settings = settings();
        let templates = Templates::load(&settings).unwrap();
        let samples = samples(&settings.shop).unwrap();
        let last = "This is our last reminder";
        // samples[0] follows an earlier reminder, samples[1] does not.
        assert!(
            templates
                .render("discount", &samples[0])
                .unwrap()
                .body
                .contains(last)
        );
        assert!(
            !templates
                .render("discount", &samples[1])
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
