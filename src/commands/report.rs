//! `payremind report`: what the reminders earned. With `--orders`, the export's view of the
//! orders reminded or held out is recorded first (under the sending runs' lock, as `forget`
//! writes); without it, the ledger is only read, as `history` reads it.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::cli::{ReportArgs, ReportFormat};
use crate::clock;
use crate::config::Settings;
use crate::error::Error;
use crate::ingest::Source;
use crate::ledger::{Adopt, Ledger};
use crate::recovery::{self, measure};

/// Prints (or writes to `--out`) the recovery report.
///
/// # Errors
/// The config, a flag, the export or the ledger cannot be read, or the ledger or `--out`
/// cannot be written.
pub fn report(args: &ReportArgs) -> Result<u8, Error> {
    let now = clock::evaluation_instant(args.now.as_deref())?;
    let settings = Settings::from_args(args.config.as_deref(), true)?;
    let window = crate::units::parse_duration(&args.window).map_err(|message| Error::Flag {
        flag: "--window",
        value: args.window.clone(),
        message: format!("is not a window: {message}"),
    })?;
    if window <= chrono::TimeDelta::zero() {
        return Err(Error::Flag {
            flag: "--window",
            value: args.window.clone(),
            message: "is zero; write how long after a reminder a payment still counts, like 7d"
                .into(),
        });
    }
    let day = |flag: &'static str, value: Option<&String>| {
        value
            .map(|v| {
                NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| Error::Flag {
                    flag,
                    value: v.clone(),
                    message: "is not a day; write it like 2026-11-01".into(),
                })
            })
            .transpose()
    };
    let since = day("--since", args.since.as_ref())?;
    let until = day("--until", args.until.as_ref())?;
    if let (Some(since), Some(until)) = (since, until)
        && until < since
    {
        return Err(Error::Flag {
            flag: "--until",
            value: until.to_string(),
            message: format!(
                "is before --since {since}: no day is in both; give the first day with --since and the last with --until"
            ),
        });
    }

    if let Some(out) = &args.out {
        refuse_to_overwrite(out, args.orders.as_deref(), &settings)?;
    }

    if let Some(orders) = &args.orders {
        settings.ready_to_run()?;
        let source = Source::new(orders).rereadable()?;
        // Nothing is made where there is no ledger yet: nothing was reminded.
        if Ledger::open_read_only(&settings.ledger_path, Adopt::Compare)?.is_none() {
            eprintln!(
                "payremind: nothing recorded: there is no ledger yet at {} (no sending run has reminded anyone)",
                settings.ledger_path.display()
            );
        } else {
            let mut ledger = Ledger::open_for_send(&settings.ledger_path, true, Adopt::Compare)?;
            let exposed = ledger.exposed_orders()?;
            if !exposed.is_empty() {
                let (seen, gone) =
                    recovery::observe(&mut ledger, &settings, &source, now, &exposed)?;
                eprintln!(
                    "payremind: recorded what {} says of {seen} of the {} orders reminded or held out ({gone} gone from it, settled as not paid)",
                    source.display().display(),
                    exposed.len()
                );
            }
        }
    }

    let (exposures, observations) = match Ledger::open_read_only(
        &settings.ledger_path,
        Adopt::Inspect,
    )? {
        Some(ledger) => (ledger.exposures()?, ledger.observations()?),
        None => {
            // Said once: `--orders` has said it already.
            if args.orders.is_none() {
                eprintln!(
                    "payremind: nothing to report: there is no ledger yet at {} (no sending run has reminded anyone; `payremind run --send` records what the report measures)",
                    settings.ledger_path.display()
                );
            }
            Default::default()
        }
    };
    let ask = measure::Ask {
        now,
        window,
        since,
        until,
        zone: settings.timezone,
        control: if settings.experiment.is_on() {
            settings.experiment.share()
        } else {
            "off".into()
        },
    };
    let report = measure::measure(&ask, &exposures, &observations);
    let text = match args.format {
        ReportFormat::Text => recovery::render::text(&report),
        ReportFormat::Json => recovery::render::json(&report)?,
        ReportFormat::Csv => recovery::render::csv(&report)?,
        ReportFormat::Html => recovery::html::page(&report, &settings.shop.name),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?,
        None => super::print_stdout(&text)?,
    }
    Ok(0)
}

/// The file a path names, resolved (its folder, when the file does not exist yet).
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(real) = path.canonicalize() {
        return Some(real);
    }
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    Some(folder.canonicalize().ok()?.join(path.file_name()?))
}

/// `--out` naming the export, the config or the ledger (or a file beside it) would replace it
/// with the report: a lost ledger means buyers reminded twice.
fn refuse_to_overwrite(
    out: &Path,
    orders: Option<&Path>,
    settings: &Settings,
) -> Result<(), Error> {
    let Some(target) = resolved(out) else {
        return Ok(());
    };
    let mut kept: Vec<(&str, PathBuf)> = crate::ledger::files(&settings.ledger_path)
        .into_iter()
        .map(|file| ("the ledger or a file of it", file))
        .collect();
    if let Some(config) = &settings.path {
        kept.push(("the config", config.clone()));
    }
    if let Some(orders) = orders {
        kept.push(("the export --orders reads", orders.to_owned()));
    }
    for (what, path) in kept {
        if resolved(&path).is_some_and(|p| p == target) {
            return Err(Error::Flag {
                flag: "--out",
                value: out.display().to_string(),
                message: format!(
                    "is {what} ({}): the report would replace it; write the report to another file, like report.html",
                    path.display()
                ),
            });
        }
    }
    Ok(())
}
