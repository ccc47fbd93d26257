//! `payremind check`: the pipeline's first stages run on an export without deciding anything,
//! and a report of what was found: the mapping in use, every status and what it means, the rows
//! that cannot be read, how fresh the export is, and whether every template renders.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::cli::CheckArgs;
use crate::clock;
use crate::config::Settings;
use crate::error::Error;
use crate::ingest::{self, Detail, ExportInfo, Item, Source};
use crate::order::{InvalidRow, StoreTime, describe_bad_row, hours};
use crate::render::Templates;
use crate::report::{BAD_ROWS_SHOWN, more_bad_rows};

/// Checks config, templates and export; 0 when ready to run, 2 when something must be fixed.
///
/// # Errors
/// A config, template or export problem that stops even the check.
pub fn check(args: &CheckArgs) -> Result<u8, Error> {
    let now = clock::evaluation_instant(args.now.as_deref())?;
    let settings = Settings::from_args(args.config.as_deref(), false)?;
    let templates = Templates::load(&settings)?;
    let names: Vec<&str> = templates.names().collect();
    templates.check(&settings, names.iter().copied())?;
    let source = Source::new(&args.orders);
    let (tally, info) = Tally::read(&source, &settings)?;

    let mut out = String::new();
    let w = &mut out;
    let mut problems = describe_config(w, &settings, &source);
    describe_export(w, &settings, &source, &info);
    problems += describe_statuses(w, &info);
    describe_orders(w, &source, &tally, &info, now);
    writeln!(
        w,
        "templates: {} render ({})",
        names.len(),
        names.join(", ")
    )
    .ok();
    if problems == 0 {
        writeln!(w, "ok: ready for `payremind run`").ok();
    } else {
        writeln!(w, "problems: {problems}; fix them before sending").ok();
    }
    super::print_stdout(&out)?;
    Ok(if problems == 0 { 0 } else { 2 })
}

/// Which config, and the settings a run cannot do without: returns how many are missing.
fn describe_config(w: &mut String, settings: &Settings, source: &Source) -> usize {
    let mut problems = 0;
    match &settings.path {
        Some(path) => writeln!(w, "config: {}", path.display()),
        None => writeln!(
            w,
            "config: none found, using built-in defaults (`payremind init --from {}` writes one)",
            source.display().display()
        ),
    }
    .ok();
    for (setting, message) in settings.missing() {
        problems += 1;
        writeln!(w, "problem: {setting} {message}").ok();
    }
    if !settings.timezone_set {
        writeln!(
            w,
            "  (until then, times without an offset are read as UTC below)"
        )
        .ok();
    }
    problems
}

/// The file as read: encoding, delimiter, rows, the layout and every column it maps.
fn describe_export(w: &mut String, settings: &Settings, source: &Source, info: &ExportInfo) {
    let delimiter = match info.delimiter {
        b'\t' => "tab".to_owned(),
        d => format!("{:?}", char::from(d)),
    };
    writeln!(
        w,
        "export: {} ({}, delimiter {delimiter}, {} rows)",
        source.display().display(),
        info.encoding,
        info.rows
    )
    .ok();
    if info.encoding == "gb18030" && settings.encoding.is_none() {
        writeln!(
            w,
            "  (not UTF-8, so read as GB18030, the Chinese Windows encoding; if names below look wrong, set [source].encoding, like \"windows-1252\")"
        )
        .ok();
    }
    if let Some(mapping) = &info.mapping {
        let how = if mapping.detected {
            "recognised from the headers"
        } else {
            "set by [source].format"
        };
        writeln!(
            w,
            "layout: {} ({how}): {}",
            mapping.layout,
            mapping.layout.preset().description
        )
        .ok();
    }
    writeln!(w, "columns:").ok();
    for (field, header, column) in &info.mapped {
        match column {
            Some(c) => writeln!(w, "  {:<18} <- {header:?} (column {c})", field.key()),
            None => writeln!(w, "  {:<18} (no {header:?} column: not used)", field.key()),
        }
        .ok();
    }
}

/// Every status label and its class: returns how many labels no class claims.
fn describe_statuses(w: &mut String, info: &ExportInfo) -> usize {
    let mut problems = 0;
    writeln!(w, "statuses:").ok();
    if info.statuses.is_empty() {
        writeln!(w, "  (none)").ok();
    }
    for (label, count) in &info.statuses {
        let class = info.mapping.as_ref().and_then(|m| m.status_class(label));
        match class {
            Some(class) => writeln!(w, "  {label:<30} {count:>7} rows  {}", class.as_str()),
            None => {
                problems += 1;
                writeln!(
                    w,
                    "  {label:<30} {count:>7} rows  NOT MAPPED: add {label:?} to [statuses] unpaid, paid or closed; these orders are skipped until then"
                )
            }
        }
        .ok();
    }

    problems
}

/// Orders, the first bad rows, warnings, and how fresh the export is.
fn describe_orders(
    w: &mut String,
    source: &Source,
    tally: &Tally,
    info: &ExportInfo,
    now: DateTime<Utc>,
) {
    writeln!(
        w,
        "orders: {} ({} with several rows); invalid rows: {}",
        tally.orders, tally.multi_row, tally.invalid_rows
    )
    .ok();
    let file = source.display().display().to_string();
    for row in &tally.invalid {
        let line = describe_bad_row(&file, row.line, row.column, &row.value, &row.error);
        writeln!(w, "  {line}").ok();
    }
    if let Some(more) = more_bad_rows(tally.invalid_rows) {
        writeln!(w, "  {more}").ok();
    }
    if tally.no_contact > 0 {
        writeln!(
            w,
            "orders without an address a reminder can go to (no_contact): {}",
            tally.no_contact
        )
        .ok();
        for (line, why) in &tally.no_contact_shown {
            writeln!(w, "  {file}:{line}: {why}").ok();
        }
    }
    for warning in &info.warnings {
        writeln!(w, "warning: {warning}").ok();
    }
    if let Some(newest) = tally.newest {
        writeln!(
            w,
            "newest order: {} ({} h before now: an old export means old decisions)",
            newest.format("%Y-%m-%d %H:%M (UTC%:z)"),
            hours(now.signed_duration_since(newest))
        )
        .ok();
    }
}

/// What `check` keeps of the export's orders: counts, not the orders.
#[derive(Default)]
struct Tally {
    orders: u64,
    multi_row: u64,
    newest: Option<StoreTime>,
    invalid_rows: u64,
    /// The first [`BAD_ROWS_SHOWN`] bad rows.
    invalid: Vec<InvalidRow>,
    /// Orders without an address a reminder can go to (`no_contact` in a run).
    no_contact: u64,
    /// The first [`BAD_ROWS_SHOWN`] of them: line, and why.
    no_contact_shown: Vec<(u64, String)>,
}

impl Tally {
    /// Reads the export once, keeping counts and bad rows, not orders.
    fn read(source: &Source, settings: &Settings) -> Result<(Tally, ExportInfo), Error> {
        ingest::visit(
            source,
            settings,
            Detail::Full,
            || Ok(Tally::default()),
            |tally, item| {
                match item {
                    Item::Order(order) => {
                        tally.orders += 1;
                        if let Err(why) = crate::address::recipient(&order.email) {
                            tally.no_contact += 1;
                            if tally.no_contact_shown.len() < BAD_ROWS_SHOWN {
                                tally.no_contact_shown.push((order.line, why));
                            }
                        }
                        tally.multi_row += u64::from(order.rows > 1);
                        tally.newest = tally.newest.max(Some(order.created_at));
                    }
                    Item::Invalid(row) => {
                        tally.invalid_rows += 1;
                        if tally.invalid.len() < BAD_ROWS_SHOWN {
                            tally.invalid.push(row.clone());
                        }
                    }
                }
                Ok(())
            },
        )
    }
}
