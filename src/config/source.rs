//! `[source]`, `[columns]` and `[statuses]`: how to read the export.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono_tz::Tz;
use encoding_rs::Encoding;
use serde::Deserialize;

use super::Bad;
use crate::error::Error;
use crate::ingest::layout::{Layout, Overrides, Statuses};
use crate::ingest::value::DateOrder;
use crate::order::Field;
use crate::units::normalize_label;

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
    /// `auto` (default: decided from the export), `dmy`, `mdy` or `ymd`: which of day and
    /// month comes first in dates written with the year last (`31/12/2023`).
    pub date_order: Option<String>,
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

/// `[source]` resolved, but for the layout's overrides ([`overrides`]).
pub(super) struct Source {
    pub timezone: Tz,
    pub timezone_set: bool,
    pub format: Option<Layout>,
    pub encoding: Option<&'static Encoding>,
    pub delimiter: Option<u8>,
    pub date_order: Option<DateOrder>,
}

/// The zone, the layout's name, the encoding and the delimiter.
pub(super) fn resolve(source: &SourceConfig, bad: Bad<'_>) -> Result<Source, Error> {
    let (timezone, timezone_set) = match source.timezone.as_deref() {
        Some(name) => {
            let zone = Tz::from_str(name.trim()).map_err(|_| {
                bad(
                    "[source].timezone",
                    format!(
                        "{name:?} is not an IANA time zone; {}",
                        zone_hint(name.trim())
                    ),
                )
            })?;
            if is_abbreviation(name.trim()) {
                eprintln!(
                    "payremind: warning: [source].timezone {name:?} is an abbreviation or an old alias: it may not follow your daylight-saving changes; write your city's IANA name, like \"America/New_York\" or \"Europe/Berlin\""
                );
            }
            (zone, true)
        }
        None => (Tz::UTC, false),
    };
    let format = match source.format.as_deref().map(str::trim) {
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
    let encoding = match source.encoding.as_deref().map(str::trim) {
        None | Some("auto") => None,
        Some(label) => Some(Encoding::for_label(label.as_bytes()).ok_or_else(|| {
            bad("[source].encoding", format!("{label:?} is not an encoding name; use \"auto\", \"utf-8\", \"gb18030\", \"utf-16le\" or another WHATWG name"))
        })?),
    };
    let delimiter = match source.delimiter.as_deref() {
        None | Some("auto") => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 && d != "\"" && d != "\n" => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(bad(
                "[source].delimiter",
                format!("{d:?} is not one ASCII character; use \"auto\", \",\", \";\" or \"tab\""),
            ));
        }
    };
    let date_order = match source.date_order.as_deref().map(str::trim) {
        None | Some("auto") => None,
        Some(name) => Some(
            [DateOrder::DayFirst, DateOrder::MonthFirst, DateOrder::YearFirst]
                .into_iter()
                .find(|order| order.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    bad(
                        "[source].date_order",
                        format!("{name:?} is not a date order; use \"auto\", \"dmy\" (31/12/2023), \"mdy\" (12/31/2023) or \"ymd\" (2023-12-31)"),
                    )
                })?,
        ),
    };
    Ok(Source {
        timezone,
        timezone_set,
        format,
        encoding,
        delimiter,
        date_order,
    })
}

/// The IANA names nearest to a misspelt zone (`Shanghai`, `asia/shangai`), as a hint.
fn zone_hint(name: &str) -> String {
    let wanted = name.to_lowercase().replace(' ', "_");
    let mut near: Vec<(f64, &str)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| {
            let full = zone.name();
            let lower = full.to_lowercase();
            let city = lower.rsplit('/').next().unwrap_or(&lower);
            let score =
                strsim::jaro_winkler(&wanted, &lower).max(strsim::jaro_winkler(&wanted, city));
            (score, full)
        })
        .filter(|(score, full)| *score > 0.85 && full.contains('/'))
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    if near.is_empty() {
        "write one like \"Asia/Shanghai\" or \"America/New_York\" (continent/city)".to_owned()
    } else {
        let names: Vec<String> = near.iter().take(3).map(|(_, n)| format!("{n:?}")).collect();
        format!("did you mean {}?", names.join(" or "))
    }
}

/// A zone name that is an abbreviation or an old alias (`EST`, `CET`, `MST7MDT`, `PRC`), not a
/// place: some never follow daylight saving, none says which country's rules apply.
fn is_abbreviation(name: &str) -> bool {
    !name.contains('/')
        && !["UTC", "GMT", "Etc/UTC", "Universal", "Zulu"]
            .iter()
            .any(|ok| name.eq_ignore_ascii_case(ok))
}

/// `[columns]` and `[statuses]`, with the layout `[source] format` names: what the seller
/// changes of a layout's preset.
pub(super) fn overrides(
    format: Option<Layout>,
    columns: &BTreeMap<String, ColumnSpec>,
    statuses: Statuses,
    bad: Bad<'_>,
) -> Result<Overrides, Error> {
    let columns = resolve_columns(columns, bad)?;
    check_statuses(&statuses, bad)?;
    Ok(Overrides {
        format,
        columns,
        statuses,
    })
}

fn resolve_columns(
    columns: &BTreeMap<String, ColumnSpec>,
    bad: Bad<'_>,
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

/// A label the seller lists under two classes is a contradiction.
fn check_statuses(statuses: &Statuses, bad: Bad<'_>) -> Result<(), Error> {
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
