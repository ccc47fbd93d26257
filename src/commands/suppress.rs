//! `payremind suppress`: the addresses that get no reminder, kept in the ledger. `add`,
//! `remove` and `import` change the list under the ledger's lock (as a sending run holds it:
//! a run that is sending finishes first, and the next one sees the change); `list` only reads.
//! Every change is recorded with when and how, and `history` shows it.
//!
//! The list is the ledger's, so the ledger's identity rules apply (see [`crate::ledger`]): a
//! ledger that is gone while its sidecar remembers it is refused, as a sending run refuses
//! it. On a machine with no ledger and no sidecar yet, `add` and `import` make both, exactly as
//! a first sending run would: the ledger they make is the one later runs use. `remove` and
//! `list` never make one.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::cli::{ListFormat, SuppressAction, SuppressArgs};
use crate::config::Settings;
use crate::error::Error;
use crate::ledger::{Adopt, Ledger};
use crate::unsubscribe::{self, Kind, Line};

/// How many skipped rows or messages an import lists (the rest are counted).
const SKIPPED_SHOWN: usize = 20;

/// Runs `payremind suppress`; 0 when done.
///
/// # Errors
/// The config or the ledger cannot be read or written, an address given is no address, or a
/// file to import cannot be read (or has no column of addresses).
pub fn suppress(args: &SuppressArgs) -> Result<u8, Error> {
    let settings = Settings::from_args(args.config.as_deref(), true)?;
    match &args.action {
        SuppressAction::Add { addresses } => change(&settings, addresses, true),
        SuppressAction::Remove { addresses } => change(&settings, addresses, false),
        SuppressAction::List { format } => list(&settings, *format),
        SuppressAction::Import { file } => import(&settings, file),
    }
}

/// `add` or `remove`: the addresses as typed. Those that are no address are reported and
/// change nothing (exit 2); the others are changed.
fn change(settings: &Settings, addresses: &[String], suppress: bool) -> Result<u8, Error> {
    let mut keys: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for address in addresses {
        match crate::address::key(address) {
            Ok(key) if !keys.contains(&key) => keys.push(key),
            Ok(_) => {}
            Err(why) => bad.push(named(address, &why)),
        }
    }
    let mut out = String::new();
    if !keys.is_empty() {
        let how = if suppress { "added" } else { "removed" };
        // Nothing is made to remove from.
        let existing =
            suppress || Ledger::open_read_only(&settings.ledger_path, Adopt::Compare)?.is_some();
        let changed = if existing {
            let mut ledger = Ledger::open_for_send(&settings.ledger_path, true, Adopt::Compare)?;
            ledger.change_suppressions(&keys, suppress, how, crate::clock::wall_clock())?
        } else {
            vec![false; keys.len()]
        };
        for (key, changed) in keys.iter().zip(changed) {
            let line = match (suppress, changed) {
                (true, true) => format!("suppressed {key}: no reminder goes to it from now on"),
                (true, false) => format!("{key} was suppressed already (nothing changed)"),
                (false, true) => format!("removed {key} from the list: it may be reminded again"),
                (false, false) => format!("{key} was not on the list (nothing changed)"),
            };
            writeln!(out, "{line}").ok();
        }
    }
    super::print_stdout(&out)?;
    if bad.is_empty() {
        return Ok(0);
    }
    let what = if suppress { "suppressed" } else { "removed" };
    Err(Error::Suppress {
        message: format!(
            "{} not {what}: {}; give the e-mail address as the buyer wrote it, like anna@example.com",
            if bad.len() == 1 {
                "an address was"
            } else {
                "addresses were"
            },
            bad.join("; ")
        ),
    })
}

/// Why a value is no address, naming the value once (the address judge names most).
fn named(value: &str, why: &str) -> String {
    if why.contains(&format!("{:?}", value.trim())) {
        why.to_owned()
    } else {
        format!("{value:?}: {why}")
    }
}

/// One address of `suppress list --format json`.
#[derive(Serialize)]
struct Listed<'a> {
    address: &'a str,
    /// When it was put on the list (RFC 3339).
    since: &'a str,
    /// How: `added`, `imported from FILE`, `reply in FILE`.
    how: &'a str,
}

/// `list`: the addresses on the list, sorted.
fn list(settings: &Settings, format: ListFormat) -> Result<u8, Error> {
    let suppressed = match Ledger::open_read_only(&settings.ledger_path, Adopt::Inspect)? {
        Some(ledger) => ledger.suppressions()?,
        None => Vec::new(),
    };
    let mut out = String::new();
    match format {
        ListFormat::Json => {
            for s in &suppressed {
                let line = serde_json::to_string(&Listed {
                    address: &s.address,
                    since: &s.at,
                    how: &s.how,
                })
                .map_err(|e| Error::Output(e.into()))?;
                writeln!(out, "{line}").ok();
            }
        }
        ListFormat::Text => {
            if suppressed.is_empty() {
                out.push_str("no address is suppressed\n");
            }
            let width = suppressed
                .iter()
                .map(|s| s.address.chars().count())
                .max()
                .unwrap_or(0);
            for s in &suppressed {
                writeln!(out, "{:width$}  since {}  {}", s.address, s.at, s.how).ok();
            }
        }
    }
    super::print_stdout(&out)?;
    Ok(0)
}

/// `import FILE`: every address the file gives goes on the list; what it gives none for is
/// reported (stderr) with its line.
fn import(settings: &Settings, file: &Path) -> Result<u8, Error> {
    let own: Vec<String> = [&settings.shop.sender, &settings.shop.reply_to]
        .into_iter()
        .filter_map(|a| crate::address::key(a).ok())
        .collect();
    let listed = unsubscribe::read(file, &own)?;
    let shown = file.display();
    let (found, how) = match &listed.kind {
        Kind::Csv { column, position } => (
            format!("{shown}: the addresses are in column {position}, {column:?}"),
            format!("imported from {shown}"),
        ),
        Kind::Mailbox { messages } => (
            format!(
                "{shown}: {messages} message(s), {} asking to unsubscribe",
                listed.addresses.len() + listed.invalid.len()
            ),
            format!("reply in {shown}"),
        ),
    };
    for Line { line, value, why } in &listed.invalid {
        eprintln!(
            "payremind: warning: {shown}:{line}: {}; not suppressed",
            named(value, why)
        );
    }
    let skipped_what = match listed.kind {
        Kind::Csv { .. } => "row",
        Kind::Mailbox { .. } => "message",
    };
    for Line { line, value, why } in listed.skipped.iter().take(SKIPPED_SHOWN) {
        eprintln!("payremind: skipped {skipped_what} {shown}:{line}: {value}: {why}");
    }
    if listed.skipped.len() > SKIPPED_SHOWN {
        eprintln!(
            "payremind: … and {} more skipped",
            listed.skipped.len() - SKIPPED_SHOWN
        );
    }
    // Each address once, in file order.
    let mut seen = std::collections::HashSet::new();
    let keys: Vec<String> = listed
        .addresses
        .iter()
        .filter(|(_, key)| seen.insert(key.as_str()))
        .map(|(_, key)| key.clone())
        .collect();
    let mut out = format!("{found}\n");
    if keys.is_empty() {
        if !listed.invalid.is_empty() {
            super::print_stdout(&out)?;
            return Err(Error::Suppress {
                message: format!(
                    "{shown}: none of its {} address(es) can be used (see the warnings above); nothing was suppressed",
                    listed.invalid.len()
                ),
            });
        }
        out.push_str("nothing to suppress\n");
        super::print_stdout(&out)?;
        return Ok(0);
    }
    let mut ledger = Ledger::open_for_send(&settings.ledger_path, true, Adopt::Compare)?;
    let changed = ledger.change_suppressions(&keys, true, &how, crate::clock::wall_clock())?;
    let new = changed.iter().filter(|c| **c).count();
    writeln!(
        out,
        "suppressed {} address(es): {new} new, {} already on the list{}",
        keys.len(),
        keys.len() - new,
        match (listed.invalid.len(), listed.skipped.len()) {
            (0, 0) => String::new(),
            (bad, skipped) => format!(" ({bad} unusable, {skipped} skipped: see above)"),
        }
    )
    .ok();
    super::print_stdout(&out)?;
    Ok(0)
}
