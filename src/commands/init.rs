//! `payremind init`: a starter config (every key commented) and the built-in templates, written
//! where the seller will edit them. With `--from EXPORT`, the config is made for that export:
//! its layout named, its columns mapped (guessed from the header names for a generic export),
//! its status words listed. Nothing is overwritten without `--force`.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::cli::InitArgs;
use crate::config::{Config, SAMPLE, Settings};
use crate::error::Error;
use crate::ingest::columns::normalize_header;
use crate::ingest::layout::{Layout, Mapping};
use crate::ingest::{self, Source};
use crate::order::Field;
use crate::render::BUILT_IN;

/// Writes `payremind.toml` and `templates/<step>.txt` into the folder.
///
/// # Errors
/// A file exists (without `--force`), cannot be written, or `--from` cannot be read.
pub fn init(args: &InitArgs) -> Result<u8, Error> {
    let config = match &args.from {
        Some(export) => starter_for(&Source::new(export))?,
        None => SAMPLE.to_owned(),
    };
    let mut files: Vec<(PathBuf, &str)> = vec![(args.dir.join("payremind.toml"), &config)];
    let templates = args.dir.join("templates");
    files.extend(
        BUILT_IN
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
        "payremind: wrote {} and {} templates in {}\nnext: set [shop].name and [source].timezone in it, then run `payremind check --orders <export.csv>`",
        files[0].0.display(),
        BUILT_IN.len(),
        templates.display()
    );
    Ok(0)
}

/// The sample config, made for the export at `source`.
fn starter_for(source: &Source) -> Result<String, Error> {
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
            "currency = \"USD\"",
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
    if layout == Layout::Generic {
        let guessed = guess_columns(&normalized);
        writeln!(
            columns,
            "# Guessed from the headers of {name}: check each one."
        )
        .ok();
        for field in Field::ALL {
            match guessed.iter().find(|(f, _)| *f == field) {
                Some((_, header)) => writeln!(
                    columns,
                    "{} = {}",
                    field.key(),
                    toml::Value::String(header.clone())
                ),
                None => writeln!(
                    columns,
                    "# {} = \"<header>\"   # no header looks like it",
                    field.key()
                ),
            }
            .ok();
        }
    }
    let statuses = status_notes(source, layout, &normalized)?;
    config = config.replacen(
        "\n[statuses]\n",
        &format!("{columns}\n[statuses]\n{statuses}"),
        1,
    );
    Ok(config)
}

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
    (Field::Total, &["total", "amount", "金额"]),
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
        Field::BuyerName,
        &["customer name", "buyer name", "customer", "name", "收货人"],
    ),
];

/// A best guess at `[columns]` for a generic export: each field takes the first unused header
/// that is, or else contains, one of its usual names.
fn guess_columns(headers: &[String]) -> Vec<(Field, String)> {
    let lower: Vec<String> = headers.iter().map(|h| h.to_lowercase()).collect();
    let mut used = vec![false; headers.len()];
    let mut guessed = Vec::new();
    for (field, names) in SYNONYMS {
        if let Some(i) = lower.iter().position(|h| h == field.key()) {
            used[i] = true;
            guessed.push((*field, headers[i].clone()));
            continue;
        }
        let pick = names.iter().find_map(|name| {
            (0..headers.len())
                .find(|&i| !used[i] && lower[i] == *name)
                .or_else(|| (0..headers.len()).find(|&i| !used[i] && lower[i].contains(name)))
        });
        if let Some(i) = pick {
            used[i] = true;
            guessed.push((*field, headers[i].clone()));
        }
    }
    guessed
}

/// A comment listing the status words of the export and what the layout makes of them.
fn status_notes(source: &Source, layout: Layout, headers: &[String]) -> Result<String, Error> {
    let mut settings = Settings::resolve(Config::default(), None)?;
    settings.layout.format = Some(layout);
    if layout == Layout::Generic {
        settings.layout.columns = guess_columns(headers)
            .into_iter()
            .map(|(f, h)| (f, vec![h]))
            .collect();
    }
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
    let mut notes = String::from("# Status words found in the export:\n");
    for (label, count) in &read.statuses {
        let class = mapping.status_class(label).map_or(
            "NOT MAPPED: add it to one of the lists below",
            crate::order::StatusClass::as_str,
        );
        writeln!(notes, "#   {label:?} ({count} rows): {class}").ok();
    }
    Ok(notes)
}
