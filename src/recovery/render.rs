//! The report for people (`text`), scripts (`json`, one object) and spreadsheets (`csv`, one
//! line per row and group).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::measure::{Group, Lift, Report, Row};
use crate::error::Error;

/// The report as one JSON object (and a newline).
///
/// # Errors
/// Never in practice (serializing plain data).
pub fn json(report: &Report) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(report).map_err(|e| Error::Output(e.into()))?;
    text.push('\n');
    Ok(text)
}

/// Amounts per currency, like `12.00 USD, 80.00 CNY`; `-` when none.
#[must_use]
pub fn amounts(recovered: &BTreeMap<String, Decimal>) -> String {
    if recovered.is_empty() {
        return "-".into();
    }
    recovered
        .iter()
        .map(|(currency, amount)| format!("{amount} {currency}").trim().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A rate as a percentage with one decimal.
#[must_use]
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0))
}

/// The lift as text: `+12.3 points (95% CI +2.0 to +22.1)`, or why there is none.
#[must_use]
pub fn lift_text(lift: &Lift) -> String {
    match (lift.difference, lift.low, lift.high) {
        (Some(d), Some(l), Some(h)) => format!(
            "{:+.1} points (95% CI {:+.1} to {:+.1})",
            d * 100.0,
            l * 100.0,
            h * 100.0
        ),
        _ => lift.status.clone(),
    }
}

fn group_line(name: &str, g: &Group) -> String {
    format!(
        "  {name:<9} sent {:>5}  orders {:>5}  settled {:>5}  paid {:>5}  rate {:>6}  unknown {:>5}  recovered {}  median {}",
        g.sent,
        g.orders,
        g.settled,
        g.paid,
        percent(g.paid_rate),
        g.unknown,
        amounts(&g.recovered),
        g.median_hours
            .map_or_else(|| "-".into(), |h| format!("{h} h")),
    )
}

fn row_text(out: &mut String, title: &str, row: &Row) {
    writeln!(out, "{title}").ok();
    writeln!(out, "{}", group_line("reminded", &row.reminded)).ok();
    writeln!(out, "{}", group_line("control", &row.control)).ok();
    writeln!(out, "  lift      {}", lift_text(&row.lift)).ok();
    for (currency, r) in &row.lift.incremental_revenue {
        writeln!(
            out,
            "  incremental revenue {} {currency} (95% CI {} to {})",
            r.estimate, r.low, r.high
        )
        .ok();
    }
}

/// The report for reading.
#[must_use]
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "Recovery report at {} (payments within {} h of a reminder; control group: {})",
        report.now, report.window_hours, report.control
    )
    .ok();
    if let Some(since) = &report.since {
        writeln!(out, "reminders from {since}").ok();
    }
    if let Some(until) = &report.until {
        writeln!(out, "reminders until {until}").ok();
    }
    writeln!(
        out,
        "paid rate = paid / settled; unknown = not settled yet (counted apart, never as unpaid); a lift needs {} settled in each group and {} paid",
        report.minimum.settled_per_group, report.minimum.paid
    )
    .ok();
    writeln!(out).ok();
    row_text(&mut out, "Total (orders)", &report.total);
    for (title, rows) in [
        ("By step (reminders)", &report.by_step),
        ("By buyer type", &report.by_buyer_type),
        ("By language", &report.by_language),
        ("By payment method", &report.by_payment_method),
    ] {
        writeln!(out, "\n{title}").ok();
        for row in rows {
            row_text(
                &mut out,
                &format!("- {}", crate::line::terminal(&row.value)),
                row,
            );
        }
    }
    if !report.by_day.is_empty() {
        writeln!(out, "\nRecovered by day").ok();
        for day in &report.by_day {
            writeln!(out, "  {}  {} {}", day.day, day.amount, day.currency).ok();
        }
    }
    out
}

/// The report as CSV: one line per dimension, value and group.
///
/// # Errors
/// Never in practice (writing to memory).
pub fn csv(report: &Report) -> Result<String, Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Output(std::io::Error::other(e.to_string()));
    writer
        .write_record([
            "dimension",
            "value",
            "group",
            "sent",
            "orders",
            "settled",
            "paid",
            "not_paid",
            "paid_before",
            "unknown",
            "paid_rate",
            "paid_rate_low",
            "paid_rate_high",
            "recovered",
            "median_hours",
            "lift",
            "lift_low",
            "lift_high",
        ])
        .map_err(fail)?;
    let number = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    let mut lines = vec![("total", &report.total)];
    for (dimension, rows) in [
        ("step", &report.by_step),
        ("buyer_type", &report.by_buyer_type),
        ("language", &report.by_language),
        ("payment_method", &report.by_payment_method),
    ] {
        lines.extend(rows.iter().map(|r| (dimension, r)));
    }
    for (dimension, row) in lines {
        for (name, g) in [("reminded", &row.reminded), ("control", &row.control)] {
            let lift = if name == "reminded" {
                [
                    row.lift
                        .difference
                        .map_or_else(|| row.lift.status.clone(), |d| d.to_string()),
                    number(row.lift.low),
                    number(row.lift.high),
                ]
            } else {
                Default::default()
            };
            writer
                .write_record([
                    dimension.to_owned(),
                    row.value.clone(),
                    name.to_owned(),
                    g.sent.to_string(),
                    g.orders.to_string(),
                    g.settled.to_string(),
                    g.paid.to_string(),
                    g.not_paid.to_string(),
                    g.paid_before.to_string(),
                    g.unknown.to_string(),
                    number(g.paid_rate),
                    number(g.paid_rate_low),
                    number(g.paid_rate_high),
                    if g.recovered.is_empty() {
                        String::new()
                    } else {
                        amounts(&g.recovered)
                    },
                    number(g.median_hours),
                    lift[0].clone(),
                    lift[1].clone(),
                    lift[2].clone(),
                ])
                .map_err(fail)?;
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Output(std::io::Error::other(e.to_string())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
