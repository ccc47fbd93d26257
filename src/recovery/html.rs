//! The report as one self-contained page: inline CSS and hand-written SVG (a bar chart of the
//! paid rate by step, reminded beside control with their 95 % intervals; the recovered amount
//! by day, one chart per currency), no script, no font, no link: it opens in any browser, from
//! a mail attachment or a USB stick, and asks the network for nothing. Every text that comes
//! from the seller or an export (shop name, step names, payment methods, currencies) is
//! escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::measure::{Group, Report, Row};
use super::render::{amounts, lift_text, percent};

use crate::render::html::escape;

const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
p.note { color: #555; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 12em; }
.figure b { display: block; font-size: 1.3em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; }
th, td { border-bottom: 1px solid #eee; padding: .25em .5em; text-align: right; }
th:first-child, th:nth-child(2), td:first-child, td.text { text-align: left; }
.reminded { fill: #2b6cb0; }
.control { fill: #a0aec0; }
.whisker { stroke: #222; stroke-width: 1.5; }
.axis { stroke: #888; stroke-width: 1; }
svg text { font-size: 12px; fill: #333; }
";

/// The page, for the shop named `shop`.
#[must_use]
pub fn page(report: &Report, shop: &str) -> String {
    let mut out = String::new();
    let shop = escape(shop);
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{shop}: what the reminders earned</title>\n<style>{STYLE}</style>\n</head>\n<body>"
    )
    .ok();
    writeln!(out, "<h1>{shop}: what the reminders earned</h1>").ok();
    writeln!(
        out,
        "<p class=\"note\">As of {}; a payment counts when it came within {} hours after the reminder (or, for the control group, after the reminder was held back). Control group: {}.{}{}</p>",
        escape(&report.now),
        report.window_hours,
        escape(&report.control),
        report
            .since
            .as_deref()
            .map(|s| format!(" Reminders from {}.", escape(s)))
            .unwrap_or_default(),
        report
            .until
            .as_deref()
            .map(|s| format!(" Reminders until {}.", escape(s)))
            .unwrap_or_default(),
    )
    .ok();
    figures(&mut out, report);
    writeln!(out, "<h2>Paid rate by step</h2>").ok();
    step_chart(&mut out, &report.by_step);
    writeln!(out, "<h2>Recovered by day</h2>").ok();
    day_charts(&mut out, report);
    writeln!(out, "<h2>Total (orders)</h2>").ok();
    table(&mut out, std::slice::from_ref(&report.total));
    for (title, rows) in [
        ("By step (reminders)", &report.by_step),
        ("By buyer type", &report.by_buyer_type),
        ("By language", &report.by_language),
        ("By payment method", &report.by_payment_method),
    ] {
        writeln!(out, "<h2>{title}</h2>").ok();
        table(&mut out, rows);
    }
    writeln!(
        out,
        "<p class=\"note\">Paid rate = paid ÷ settled. Orders whose outcome is not known yet (the window is not over, or no later export showed them) are counted apart as unknown, never as unpaid. The intervals are 95% intervals (Wilson's for a rate, Newcombe's for the lift). A lift needs at least {} settled orders in each group and {} paid in both together; below that the page says \"not enough data\".</p>\n</body>\n</html>",
        report.minimum.settled_per_group, report.minimum.paid
    )
    .ok();
    out
}

/// The headline figures.
fn figures(out: &mut String, report: &Report) {
    let total = &report.total;
    writeln!(out, "<div class=\"figures\">").ok();
    let mut figure = |label: &str, value: String| {
        writeln!(
            out,
            "<div class=\"figure\">{label}<b>{}</b></div>",
            escape(&value)
        )
        .ok();
    };
    figure(
        "Paid after a reminder",
        format!(
            "{} ({} of {})",
            percent(total.reminded.paid_rate),
            total.reminded.paid,
            total.reminded.settled
        ),
    );
    figure(
        "Paid without one (control)",
        format!(
            "{} ({} of {})",
            percent(total.control.paid_rate),
            total.control.paid,
            total.control.settled
        ),
    );
    figure("Lift", lift_text(&total.lift));
    figure("Recovered", amounts(&total.reminded.recovered));
    let incremental: BTreeMap<String, Decimal> = total
        .lift
        .incremental_revenue
        .iter()
        .map(|(c, r)| (c.clone(), r.estimate))
        .collect();
    figure(
        "Caused by the reminders",
        if incremental.is_empty() {
            total.lift.status.clone()
        } else {
            amounts(&incremental)
        },
    );
    figure(
        "Outcome unknown yet",
        format!(
            "{} reminded, {} control",
            total.reminded.unknown, total.control.unknown
        ),
    );
    writeln!(out, "</div>").ok();
}

fn cells(g: &Group) -> String {
    format!(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td><td>{}</td>",
        g.sent,
        g.settled,
        g.paid,
        g.unknown,
        escape(&percent(g.paid_rate)),
        match (g.paid_rate_low, g.paid_rate_high) {
            (Some(l), Some(h)) => format!("{}–{}", percent(Some(l)), percent(Some(h))),
            _ => "-".into(),
        },
        escape(&amounts(&g.recovered)),
        g.median_hours
            .map_or_else(|| "-".into(), |h| format!("{h} h")),
    )
}

fn table(out: &mut String, rows: &[Row]) {
    writeln!(
        out,
        "<table>\n<tr><th></th><th>group</th><th>sent</th><th>settled</th><th>paid</th><th>unknown</th><th>paid rate</th><th>95% interval</th><th>recovered</th><th>median to payment</th><th>lift</th></tr>"
    )
    .ok();
    for row in rows {
        let value = escape(&row.value);
        let lift = escape(&lift_text(&row.lift));
        writeln!(
            out,
            "<tr><td rowspan=\"2\">{value}</td><td class=\"text\">reminded</td>{}<td rowspan=\"2\">{lift}</td></tr>\n<tr><td class=\"text\">control</td>{}</tr>",
            cells(&row.reminded),
            cells(&row.control)
        )
        .ok();
    }
    writeln!(out, "</table>").ok();
}

/// Paid rate by step: two bars per step (reminded, control), each with its interval.
fn step_chart(out: &mut String, rows: &[Row]) {
    if rows.is_empty() {
        writeln!(out, "<p>No reminder recorded yet.</p>").ok();
        return;
    }
    let (left, top, height, group_width) = (48.0, 16.0, 200.0, 120.0);
    #[allow(clippy::cast_precision_loss)]
    let width = left + group_width * rows.len() as f64 + 20.0;
    let total_height = top + height + 40.0;
    writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{total_height}\" viewBox=\"0 0 {width} {total_height}\" role=\"img\" aria-label=\"Paid rate by step, reminded and control\">"
    )
    .ok();
    let y = |rate: f64| top + height * (1.0 - rate);
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        writeln!(
            out,
            "<line class=\"axis\" x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke-dasharray=\"2,3\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}%</text>",
            width - 10.0,
            left - 4.0,
            y(tick) + 4.0,
            tick * 100.0,
            y = y(tick)
        )
        .ok();
    }
    for (i, row) in rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let x0 = left + group_width * i as f64 + 15.0;
        for (j, (class, g)) in [("reminded", &row.reminded), ("control", &row.control)]
            .into_iter()
            .enumerate()
        {
            #[allow(clippy::cast_precision_loss)]
            let x = x0 + 42.0 * j as f64;
            let Some(rate) = g.paid_rate else {
                writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">n/a</text>",
                    x + 18.0,
                    y(0.0) - 4.0
                )
                .ok();
                continue;
            };
            writeln!(
                out,
                "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"36\" height=\"{:.1}\"><title>{}: {} ({} of {})</title></rect>",
                y(rate),
                height * rate,
                class,
                percent(Some(rate)),
                g.paid,
                g.settled
            )
            .ok();
            if let (Some(low), Some(high)) = (g.paid_rate_low, g.paid_rate_high) {
                let cx = x + 18.0;
                writeln!(
                    out,
                    "<line class=\"whisker\" x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><line class=\"whisker\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><line class=\"whisker\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
                    y(low),
                    y(high),
                    cx - 6.0,
                    cx + 6.0,
                    y(low),
                    y(low),
                    cx - 6.0,
                    cx + 6.0,
                    y(high),
                    y(high)
                )
                .ok();
            }
        }
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x0 + 39.0,
            top + height + 18.0,
            escape(&row.value)
        )
        .ok();
    }
    writeln!(
        out,
        "<rect class=\"reminded\" x=\"{left}\" y=\"{:.1}\" width=\"12\" height=\"12\"/><text x=\"{}\" y=\"{:.1}\">reminded</text><rect class=\"control\" x=\"{}\" y=\"{:.1}\" width=\"12\" height=\"12\"/><text x=\"{}\" y=\"{:.1}\">control (held out)</text>",
        top + height + 26.0,
        left + 16.0,
        top + height + 36.0,
        left + 100.0,
        top + height + 26.0,
        left + 116.0,
        top + height + 36.0
    )
    .ok();
    writeln!(out, "</svg>").ok();
}

/// Recovered amount by day, one chart per currency (amounts in two currencies share no axis).
fn day_charts(out: &mut String, report: &Report) {
    let mut by_currency: BTreeMap<&str, Vec<(&str, Decimal)>> = BTreeMap::new();
    for day in &report.by_day {
        by_currency
            .entry(day.currency.as_str())
            .or_default()
            .push((day.day.as_str(), day.amount));
    }
    if by_currency.is_empty() {
        writeln!(out, "<p>Nothing recovered yet.</p>").ok();
        return;
    }
    for (currency, days) in by_currency {
        let currency = escape(currency);
        let most = days
            .iter()
            .map(|(_, a)| *a)
            .max()
            .unwrap_or(Decimal::ONE)
            .to_f64()
            .unwrap_or(1.0)
            .max(f64::MIN_POSITIVE);
        let (left, top, height, bar) = (16.0, 20.0, 140.0, 70.0);
        #[allow(clippy::cast_precision_loss)]
        let width = left * 2.0 + bar * days.len() as f64;
        let total_height = top + height + 24.0;
        writeln!(
            out,
            "<h3>{currency}</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{total_height}\" viewBox=\"0 0 {width} {total_height}\" role=\"img\" aria-label=\"Recovered {currency} by day\">"
        )
        .ok();
        for (i, (day, amount)) in days.iter().enumerate() {
            let share = amount.to_f64().unwrap_or(0.0) / most;
            #[allow(clippy::cast_precision_loss)]
            let x = left + bar * i as f64 + 8.0;
            let h = height * share;
            writeln!(
                out,
                "<rect class=\"reminded\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{} {currency} on {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                top + height - h,
                bar - 16.0,
                amount,
                escape(day),
                x + (bar - 16.0) / 2.0,
                top + height - h - 4.0,
                amount,
                x + (bar - 16.0) / 2.0,
                top + height + 16.0,
                escape(day.get(5..).unwrap_or(day)),
            )
            .ok();
        }
        writeln!(out, "</svg>").ok();
    }
}
