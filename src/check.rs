//! `payremind check`: the pipeline's first stages run on an export without deciding anything,
//! and a report of what was found: the mapping in use, every status and what it means, the rows
//! that cannot be read, how fresh the export is, and whether every template renders.

use std::fmt::Write as _;

use crate::cli::CheckArgs;
use crate::clock;
use crate::config::Settings;
use crate::error::Error;
use crate::ingest::{self, Source};
use crate::order::hours;
use crate::render::Templates;

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
    let ingested = ingest::read(&source, &settings)?;

    let mut out = String::new();
    let mut problems = 0;
    let w = &mut out;
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
    let delimiter = match ingested.delimiter {
        b'\t' => "tab".to_owned(),
        d => format!("{:?}", char::from(d)),
    };
    writeln!(
        w,
        "export: {} ({}, delimiter {delimiter}, {} rows)",
        source.display().display(),
        ingested.encoding,
        ingested.rows
    )
    .ok();
    if ingested.encoding == "gb18030" && settings.encoding.is_none() {
        writeln!(
            w,
            "  (not UTF-8, so read as GB18030, the Chinese Windows encoding; if names below look wrong, set [source].encoding, like \"windows-1252\")"
        )
        .ok();
    }
    if let Some(mapping) = &ingested.mapping {
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
    for (field, header, column) in &ingested.mapped {
        match column {
            Some(c) => writeln!(w, "  {:<18} <- {header:?} (column {c})", field.key()),
            None => writeln!(w, "  {:<18} (no {header:?} column: not used)", field.key()),
        }
        .ok();
    }

    writeln!(w, "statuses:").ok();
    if ingested.statuses.is_empty() {
        writeln!(w, "  (none)").ok();
    }
    for (label, count) in &ingested.statuses {
        let class = ingested
            .mapping
            .as_ref()
            .and_then(|m| m.status_class(label));
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

    let multi_row = ingested.orders.iter().filter(|o| o.rows > 1).count();
    writeln!(
        w,
        "orders: {} ({multi_row} with several rows); invalid rows: {}",
        ingested.orders.len(),
        ingested.invalid.len()
    )
    .ok();
    let file = source.display().display().to_string();
    for row in &ingested.invalid {
        let line = ingest::describe_bad_row(&file, row.line, row.column, &row.value, &row.error);
        writeln!(w, "  {line}").ok();
    }
    for warning in &ingested.warnings {
        writeln!(w, "warning: {warning}").ok();
    }
    if let Some(newest) = ingested.orders.iter().map(|o| o.created_at).max() {
        writeln!(
            w,
            "newest order: {} ({} h before now: an old export means old decisions)",
            newest.format("%Y-%m-%d %H:%M (UTC%:z)"),
            hours(now.signed_duration_since(newest))
        )
        .ok();
    }
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
    crate::print_stdout(&out)?;
    Ok(if problems == 0 { 0 } else { 2 })
}
