//! `payremind init`: a starter config (every key commented) and the built-in templates, written
//! where the seller will edit them. With `--from EXPORT`, the config is made for that export:
//! its layout named, its columns mapped (for a generic export, guessed from the header names
//! and kept only when the values of the first rows fit the field, else left unmapped with a
//! comment saying why), its status words listed with what they mean. Nothing is overwritten
//! without `--force`. The sender, help link and currency are left as commented examples:
//! `check` and `run --send` refuse them until the seller writes their own.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::cli::InitArgs;
use crate::config::{Config, SAMPLE, Settings};
use crate::error::Error;
use crate::ingest::columns::normalize_header;
use crate::ingest::layout::{Layout, Mapping};
use crate::ingest::value::{self, DateOrder};
use crate::ingest::{self, Source};
use crate::order::{Field, StatusClass};
use crate::render::built_in;

/// Writes `payremind.toml` and `templates/<step>.txt` into the folder.
///
/// # Errors
/// A file exists (without `--force`), cannot be written, or `--from` cannot be read.
pub fn init(args: &InitArgs) -> Result<u8, Error> {
    let (config, language) = match &args.from {
        Some(export) => starter_for(&Source::new(export))?,
        None => (SAMPLE.to_owned(), None),
    };
    let mut files: Vec<(PathBuf, &str)> = vec![(args.dir.join("payremind.toml"), &config)];
    let templates = args.dir.join("templates");
    // The flat `templates/<step>.txt` are the shop's own language's (`[shop] language`,
    // whose default is the layout's): Chinese for a Taobao shop, else English.
    let built_in = built_in(language.unwrap_or(crate::language::ENGLISH));
    files.extend(
        built_in
            .iter()
            .map(|(name, source)| (templates.join(format!("{name}.txt")), *source)),
    );
    // A symbolic link to nothing would be written through, to wherever it points.
    if let Some((path, _)) = files
        .iter()
        .find(|(path, _)| path.is_symlink() && !path.exists())
    {
        return Err(Error::Write {
            path: path.clone(),
            source: std::io::Error::other(
                "it is a symbolic link to a file that does not exist, and payremind does not write through it; remove the link, then run init again",
            ),
        });
    }
    if !args.force
        && let Some((path, _)) = files.iter().find(|(path, _)| path.exists())
    {
        return Err(Error::Exists { path: path.clone() });
    }
    let write_error = |path: &PathBuf| {
        let path = path.clone();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(&templates).map_err(write_error(&templates))?;
    for (path, text) in &files {
        std::fs::write(path, text).map_err(write_error(path))?;
    }
    eprintln!(
        "payremind: wrote {} and {} templates in {}\nnext: set [shop] name and sender, [source] timezone and what else it marks REQUIRED, then run `payremind check --orders <export.csv>`",
        files[0].0.display(),
        built_in.len(),
        templates.display()
    );
    Ok(0)
}

/// The sample config, made for the export at `source`, and its layout's language (whose
/// templates `init` writes).
fn starter_for(source: &Source) -> Result<(String, Option<&'static str>), Error> {
    // Read more than once (standard input is kept in memory).
    let source = &source.rereadable()?;
    let defaults = Settings::resolve(Config::default(), None)?;
    let opened = ingest::open(source, &defaults)?;
    let normalized: Vec<String> = opened.headers.iter().map(|h| normalize_header(h)).collect();
    let layout = Layout::detect(&normalized);
    let name = source.display().display().to_string();
    let mut config = SAMPLE.replacen(
        "format = \"auto\"",
        &format!(
            "format = \"{layout}\"   # {}, recognised in {name}",
            layout.preset().description
        ),
        1,
    );
    if let Some(currency) = layout.preset().currency {
        config = config.replacen(
            "# currency = \"USD\"",
            &format!("currency = \"{currency}\""),
            1,
        );
    }
    if let Some(hint) = layout.preset().zone_hint {
        config = config.replacen(
            "# timezone = \"Asia/Shanghai\"",
            &format!("# {hint}\n# timezone = \"Asia/Shanghai\""),
            1,
        );
    }

    let mut columns = String::new();
    let mut guessed = Vec::new();
    if layout == Layout::Generic {
        let sample = ingest::open(source, &defaults)?.sample(SAMPLED, SAMPLED_ROWS);
        let guesses = guess_columns(&normalized, &sample);
        writeln!(
            columns,
            "# Guessed from the headers of {name} and the values of its first rows (a column is\n# mapped only when its values look like what the field holds): check each one."
        )
        .ok();
        for field in Field::ALL {
            let key = field.key();
            let line = match guesses.iter().find(|g| g.field == field) {
                Some(Guess {
                    header: Some(header),
                    checked,
                    ..
                }) => {
                    let header = toml::Value::String(header.clone());
                    if *checked {
                        format!("{key} = {header}")
                    } else {
                        format!(
                            "{key} = {header}   # empty in the rows read: its values could not be checked"
                        )
                    }
                }
                Some(Guess { rejected, .. }) if !rejected.is_empty() => format!(
                    "# {key}: no column looked like {} ({})",
                    Kind::of(field).what(),
                    rejected.join(", ")
                ),
                _ => format!("# {key} = \"<header>\"   # no header looks like it"),
            };
            writeln!(columns, "{line}").ok();
            if let Some(Guess {
                header: Some(header),
                ..
            }) = guesses.iter().find(|g| g.field == field)
            {
                guessed.push((field, vec![header.clone()]));
            }
        }
    }
    config = config.replacen("\n[statuses]\n", &format!("{columns}\n[statuses]\n"), 1);
    let statuses = status_notes(source, layout, guessed)?;
    if !statuses.is_empty() {
        config = replace_block(&config, "# unpaid = [", "# closed = [", &statuses);
    }
    Ok((config, layout.preset().language))
}

/// `text` with the lines from the one starting with `first` to the one starting with `last`
/// (both included) replaced by `with`.
fn replace_block(text: &str, first: &str, last: &str, with: &str) -> String {
    let Some(start) = text.find(first) else {
        return text.to_owned();
    };
    let end = text[start..]
        .find(last)
        .and_then(|at| text[start + at..].find('\n').map(|nl| start + at + nl + 1))
        .unwrap_or(text.len());
    format!("{}{with}{}", &text[..start], &text[end..])
}

/// How many non-empty values of each column `init` checks, from at most this many rows.
const SAMPLED: usize = 300;
const SAMPLED_ROWS: usize = 5000;

/// Header name fragments that usually hold each field, best first.
const SYNONYMS: &[(Field, &[&str])] = &[
    (
        Field::OrderId,
        &[
            "order id",
            "order number",
            "order no",
            "order #",
            "订单号",
            "订单编号",
            "order",
        ],
    ),
    (
        Field::BuyerId,
        &[
            "customer id",
            "buyer id",
            "user id",
            "member id",
            "买家会员名",
        ],
    ),
    (Field::Email, &["email", "e-mail", "mail", "邮箱"]),
    (Field::Status, &["status", "state", "状态"]),
    (
        Field::CreatedAt,
        &[
            "created",
            "order date",
            "placed",
            "下单时间",
            "创建时间",
            "date",
        ],
    ),
    (Field::PaidAt, &["paid", "payment date", "付款时间"]),
    (
        Field::Total,
        &[
            "order total",
            "grand total",
            "total amount",
            "order amount",
            "total",
            "amount",
            "金额",
        ],
    ),
    (Field::Currency, &["currency", "币种"]),
    (Field::Channel, &["channel", "source", "店铺"]),
    (
        Field::Product,
        &["product", "item", "title", "商品", "宝贝"],
    ),
    (
        Field::PriorPaidOrders,
        &["paid orders", "previous orders", "order count"],
    ),
    (Field::CloseAt, &["close", "expire", "deadline"]),
    (Field::Country, &["country", "国家"]),
    (
        Field::PaymentMethod,
        &[
            "payment method",
            "payment gateway",
            "payment type",
            "gateway",
            "支付方式",
            "付款方式",
        ],
    ),
    (
        Field::Fulfillment,
        &[
            "fulfillment status",
            "fulfilment status",
            "shipping status",
            "shipment status",
            "发货状态",
            "fulfillment",
            "fulfilment",
        ],
    ),
    (
        Field::Tracking,
        &[
            "tracking number",
            "tracking",
            "shipped at",
            "ship date",
            "运单号",
            "物流单号",
            "发货时间",
        ],
    ),
    (
        Field::CancelledAt,
        &["cancelled at", "canceled at", "cancel date", "取消时间"],
    ),
    (Field::PaymentTerms, &["payment terms"]),
    (Field::Tags, &["tags", "标签"]),
    (Field::Quantity, &["quantity", "qty", "数量"]),
    (
        Field::Region,
        &["state code", "province", "region", "州/省", "省份"],
    ),
    (
        Field::BuyerZone,
        &["time zone", "timezone", "buyer zone", "时区"],
    ),
    (
        Field::Language,
        &[
            "language",
            "locale",
            "customer language",
            "customer locale",
            "buyer language",
            "lang",
            "语言",
        ],
    ),
    (
        Field::AcceptsMarketing,
        &[
            "accepts marketing",
            "accepts email marketing",
            "marketing opt-in",
            "marketing consent",
            "newsletter",
            "接受营销",
            "营销同意",
        ],
    ),
    (
        Field::BuyerName,
        &["customer name", "buyer name", "customer", "name", "收货人"],
    ),
];

/// What a field's values look like: a column is mapped to a field only when its values do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Time,
    Amount,
    Count,
    Name,
    Email,
    Id,
    Status,
    Country,
    Currency,
    Product,
    Text,
    /// Anything (a ship time or a tracking number: any value means the parcel left).
    Any,
}

impl Kind {
    /// The kind of value `field` holds.
    fn of(field: Field) -> Kind {
        match field {
            Field::CreatedAt
            | Field::PaidAt
            | Field::CloseAt
            | Field::CancelledAt
            | Field::PaymentDueAt => Kind::Time,
            Field::Total => Kind::Amount,
            Field::PriorPaidOrders | Field::Quantity => Kind::Count,
            Field::BuyerName => Kind::Name,
            Field::Email => Kind::Email,
            Field::OrderId | Field::BuyerId => Kind::Id,
            Field::Status => Kind::Status,
            Field::Country => Kind::Country,
            Field::Currency => Kind::Currency,
            Field::Product => Kind::Product,
            Field::Tracking => Kind::Any,
            // The channel (`web`, an app's number), payment method, fulfilment, terms, tags.
            _ => Kind::Text,
        }
    }

    /// For the comment on a field left unmapped: "no column looked like {what}".
    fn what(self) -> &'static str {
        match self {
            Kind::Time => "a date and time",
            Kind::Amount => "an amount",
            Kind::Count => "a count",
            Kind::Name => "a name",
            Kind::Email => "an e-mail address",
            Kind::Id => "an id",
            Kind::Status => "a status word",
            Kind::Country => "a country",
            Kind::Currency => "a currency code",
            Kind::Product => "a product",
            Kind::Text => "text",
            Kind::Any => "a value",
        }
    }

    /// Whether one value (trimmed, not empty) looks like this kind, by the parsers that will
    /// read it.
    fn fits(self, v: &str) -> bool {
        let letters = || v.chars().any(char::is_alphabetic);
        let amount = || value::parse_money(v).is_ok();
        let short = |most: usize| v.chars().count() <= most;
        match self {
            Kind::Time => is_time(v),
            Kind::Amount => amount(),
            Kind::Count => value::parse_count(v).is_ok(),
            Kind::Name => letters() && !v.contains('@') && !amount() && !is_time(v),
            Kind::Email => is_email(v),
            // An order number or a buyer's account: one or two words, never an amount with
            // decimals (a customer's total spent) or a date.
            Kind::Id => {
                short(64)
                    && v.split_whitespace().count() <= 2
                    && !(amount() && v.contains(['.', ',']))
                    && !is_time(v)
            }
            Kind::Status => letters() && short(40) && !v.contains('@') && !is_time(v),
            Kind::Country => {
                letters() && short(60) && !v.contains('@') && !v.chars().any(|c| c.is_ascii_digit())
            }
            Kind::Currency => v.len() == 3 && v.chars().all(|c| c.is_ascii_alphabetic()),
            Kind::Product => !amount() && !is_time(v),
            Kind::Text => !is_time(v),
            Kind::Any => true,
        }
    }

    /// Whether nearly all `values` (at least 9 in 10, so that one mistyped row does not hide
    /// a column) look like this kind; never for no values. An order number also differs from
    /// row to row (a status column's few words fit an id's shape too); repeats are allowed,
    /// since multi-row orders repeat their number.
    fn fits_most(self, values: &[String]) -> bool {
        let fit = values.iter().filter(|v| self.fits(v)).count();
        let varied = || {
            let distinct: std::collections::HashSet<&String> = values.iter().collect();
            values.len() < 10 || distinct.len() * 4 > values.len()
        };
        !values.is_empty() && fit * 10 >= values.len() * 9 && (self != Kind::Id || varied())
    }
}

/// A date and time in any layout an export uses, day or month first.
fn is_time(v: &str) -> bool {
    [DateOrder::DayFirst, DateOrder::MonthFirst]
        .into_iter()
        .any(|order| value::parse_time_ordered(v, chrono_tz::UTC, || Ok(order)).is_ok())
}

/// An address a reminder can go to, judged as the run judges it (a display name and angle
/// brackets, `Ann Lee <ann@example.com>`, are fine).
fn is_email(v: &str) -> bool {
    crate::address::recipient(v).is_ok()
}

/// What a column holds, for the comment on a field it was not mapped to.
fn holds(values: &[String]) -> &'static str {
    if values.is_empty() {
        return "is empty";
    }
    [
        (Kind::Time, "holds dates"),
        (Kind::Email, "holds e-mail addresses"),
        (Kind::Count, "holds counts"),
        (Kind::Amount, "holds amounts"),
    ]
    .into_iter()
    .find(|(kind, _)| kind.fits_most(values))
    .map_or("holds other text", |(_, says)| says)
}

/// One field's guess.
struct Guess {
    field: Field,
    /// The header chosen.
    header: Option<String>,
    /// Whether its values were checked (false: the column is empty in the rows read, and its
    /// header is exactly the field's name or one of its usual names).
    checked: bool,
    /// Headers named like the field whose values do not fit it, with what they hold.
    rejected: Vec<String>,
}

/// Words of headers that hold free text (notes, comments, messages): such a column is never
/// guessed for a field from a part of its name.
const FREE_TEXT: &[&str] = &[
    "note",
    "comment",
    "remark",
    "message",
    "memo",
    "instruction",
    "备注",
    "留言",
];

/// Whether a header contains the key or a usual name of a field other than `field`.
fn names_another_field(header: &str, field: Field) -> bool {
    SYNONYMS.iter().any(|(other, names)| {
        *other != field
            && (header.contains(other.key()) || names.iter().any(|n| header.contains(n)))
    })
}

/// A best guess at `[columns]` for a generic export: each field takes the first unused header
/// that is exactly the field's key, else exactly one of its usual names, else contains one
/// (the shortest such header first), whose sampled values fit the field.
fn guess_columns(headers: &[String], sample: &[Vec<String>]) -> Vec<Guess> {
    let lower: Vec<String> = headers.iter().map(|h| h.to_lowercase()).collect();
    let empty = Vec::new();
    let values = |i: usize| sample.get(i).unwrap_or(&empty);
    let mut used = vec![false; headers.len()];
    let mut guesses = Vec::new();
    for (field, names) in SYNONYMS {
        let kind = Kind::of(*field);
        // (column, named exactly)
        let mut candidates: Vec<(usize, bool)> = Vec::new();
        let mut consider = |i: usize, exact: bool| {
            if !used[i] && !candidates.iter().any(|(c, _)| *c == i) {
                candidates.push((i, exact));
            }
        };
        for i in (0..headers.len()).filter(|&i| lower[i] == field.key()) {
            consider(i, true);
        }
        for name in *names {
            for i in (0..headers.len()).filter(|&i| lower[i] == *name) {
                consider(i, true);
            }
        }
        for name in *names {
            // A header that only contains a usual name is a candidate unless it says it is
            // free text ("Customer Note" is no buyer name, whatever its values).
            // For an id or a name, whose usual names are broad ("order", "customer"), neither
            // is a header that names another field ("Order Status", "Customer Total Spent").
            let broad = matches!(kind, Kind::Id | Kind::Name);
            let mut containing: Vec<usize> = (0..headers.len())
                .filter(|&i| {
                    lower[i].contains(name)
                        && !FREE_TEXT.iter().any(|w| lower[i].contains(w))
                        && !(broad && names_another_field(&lower[i], *field))
                })
                .collect();
            containing.sort_by_key(|&i| lower[i].chars().count());
            for i in containing {
                consider(i, false);
            }
        }
        let mut guess = Guess {
            field: *field,
            header: None,
            checked: false,
            rejected: Vec::new(),
        };
        for (i, exact) in candidates {
            let values = values(i);
            if kind.fits_most(values) || (values.is_empty() && exact) {
                used[i] = true;
                guess.header = Some(headers[i].clone());
                guess.checked = !values.is_empty();
                break;
            }
            guess
                .rejected
                .push(format!("{:?} {}", headers[i], holds(values)));
        }
        guesses.push(guess);
    }
    guesses
}

/// The `[statuses]` lines for the export: every status word it uses, with what the layout (or
/// the generic words) makes of it, and the three class lists as the export spells them, ready
/// to be uncommented. Empty when the export cannot be read with this mapping.
fn status_notes(
    source: &Source,
    layout: Layout,
    guessed: Vec<(Field, Vec<String>)>,
) -> Result<String, Error> {
    let mut settings = Settings::resolve(Config::default(), None)?;
    settings.layout.format = Some(layout);
    settings.layout.columns = guessed.into_iter().collect();
    let Ok(((), read)) = ingest::visit(
        source,
        &settings,
        ingest::Detail::Decisions,
        || Ok(()),
        |(), _| Ok(()),
    ) else {
        return Ok(String::new());
    };
    let mapping = Mapping::new(layout, false, &settings.layout);
    let preset = layout.preset();
    let mut notes = format!(
        "# The status words in the export and what they mean ({} words, matched without case):\n",
        preset.name
    );
    let mut found: [(StatusClass, &[&str], Vec<&str>); 3] = [
        (StatusClass::Unpaid, preset.unpaid, Vec::new()),
        (StatusClass::Paid, preset.paid, Vec::new()),
        (StatusClass::Closed, preset.closed, Vec::new()),
    ];
    let mut unclaimed = 0;
    for (label, count) in &read.statuses {
        match mapping.status_class(label) {
            Some(class) => {
                writeln!(notes, "#   {label:?} ({count} rows): {}", class.as_str()).ok();
                if let Some((_, _, words)) = found.iter_mut().find(|(c, _, _)| *c == class) {
                    words.push(label);
                }
            }
            None => {
                unclaimed += 1;
                writeln!(
                    notes,
                    "#   {label:?} ({count} rows): NOT CLASSED: add it to unpaid, paid or closed below, or these rows cannot be read"
                )
                .ok();
            }
        }
    }
    if unclaimed > 0 {
        notes.push_str(
            "# A list written here replaces the layout's list of that class: uncomment one and add the word.\n",
        );
    }
    for (class, preset_words, words) in &found {
        let words: Vec<&str> = if words.is_empty() {
            preset_words.to_vec()
        } else {
            words.clone()
        };
        let list = toml::Value::Array(words.iter().map(|w| toml::Value::from(*w)).collect());
        writeln!(notes, "# {} = {list}", class.as_str()).ok();
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn a_column_is_taken_only_when_its_values_fit() {
        let headers = column(&["Order", "Customer", "Customer Name", "Date", "Paid"]);
        let sample = vec![
            column(&["A1", "A2"]),
            column(&["12.50", "1,204.10"]),
            column(&["Ana Lima", "林莉"]),
            // Excel's re-saves, day first and month first with AM/PM: dates either way.
            column(&["31/12/2023 22:36", "12/31/2023 10:36 PM"]),
            column(&["yes", "no"]),
        ];
        let guesses = guess_columns(&headers, &sample);
        let guess = |field| guesses.iter().find(|g| g.field == field).unwrap();
        assert_eq!(guess(Field::OrderId).header.as_deref(), Some("Order"));
        assert_eq!(
            guess(Field::BuyerName).header.as_deref(),
            Some("Customer Name")
        );
        assert_eq!(guess(Field::CreatedAt).header.as_deref(), Some("Date"));
        assert_eq!(guess(Field::PaidAt).header, None);
        assert_eq!(guess(Field::PaidAt).rejected, ["\"Paid\" holds other text"]);
        // Named like a buyer, holding amounts (a customer's total spent): never the name.
        let alone = guess_columns(&headers[..2], &sample[..2]);
        let name = alone.iter().find(|g| g.field == Field::BuyerName).unwrap();
        assert_eq!(name.header, None);
        assert_eq!(name.rejected, ["\"Customer\" holds amounts"]);
        // Nine in ten must fit: one mistyped date does not hide a column, two in ten do.
        let mut dates = column(&["2026-11-22 10:00"; 9]);
        dates.push("2026-11-31 10:00".into());
        assert!(Kind::Time.fits_most(&dates));
        dates.push("soon".into());
        assert!(!Kind::Time.fits_most(&dates));
        assert!(!Kind::Time.fits_most(&[]));
        assert!(Kind::Email.fits("a.b@example.com") && !Kind::Email.fits("138****6621"));
        assert!(!Kind::Name.fits("59.80") && !Kind::Name.fits("2026-11-22 10:00"));
        assert!(!Kind::Id.fits("59.80") && Kind::Id.fits("#1001"));
    }
}
