//! `[select]` and `[[rules]]`: who is left alone, and the reminder ladder.

use std::collections::HashSet;

use chrono::TimeDelta;
use serde::Deserialize;

use super::Bad;
use crate::decide::ladder::{self, Rule, RuleConfig};
use crate::error::Error;
use crate::units::{normalize_label, parse_duration};

/// `[select]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// Youngest order worth a reminder (default 2h).
    pub min_age: Option<String>,
    /// Oldest order still worth one (default 7d).
    pub max_age: Option<String>,
    /// An order closing within this is reminded now, urgently (default 3h).
    pub closing_window: Option<String>,
    /// Channels whose orders settle late and are never reminded.
    #[serde(default)]
    pub distribution_channels: Vec<String>,
    /// Least time between two reminders to the same buyer (default 20h).
    pub min_gap: Option<String>,
    /// Most reminders per order (default 3).
    pub max_reminders: Option<u32>,
}

/// `[select]`, resolved.
#[derive(Debug, Clone)]
pub struct Select {
    /// Youngest order worth a reminder.
    pub min_age: TimeDelta,
    /// Oldest order still worth one.
    pub max_age: TimeDelta,
    /// Closing this soon = remind now.
    pub closing_window: TimeDelta,
    /// Distribution channels, trimmed and lower-cased.
    pub distribution_channels: HashSet<String>,
    /// Least time between two reminders to the same buyer.
    pub min_gap: TimeDelta,
    /// Most reminders per order.
    pub max_reminders: u32,
}

/// `[select]`: durations parsed, channels normalised, and an age window that can let an
/// order through.
pub(super) fn resolve(select: &SelectConfig, bad: Bad<'_>) -> Result<Select, Error> {
    let duration = |key: &str, value: Option<&str>, default: &str| {
        parse_duration(value.unwrap_or(default)).map_err(|m| bad(&format!("[select].{key}"), m))
    };
    let resolved = Select {
        min_age: duration("min_age", select.min_age.as_deref(), "2h")?,
        max_age: duration("max_age", select.max_age.as_deref(), "7d")?,
        closing_window: duration("closing_window", select.closing_window.as_deref(), "3h")?,
        distribution_channels: select
            .distribution_channels
            .iter()
            .map(|c| normalize_label(c))
            .collect(),
        min_gap: duration("min_gap", select.min_gap.as_deref(), "20h")?,
        max_reminders: select.max_reminders.unwrap_or(3),
    };
    if resolved.min_age > resolved.max_age {
        return Err(bad(
            "[select].min_age",
            "is longer than max_age, so no order could ever be reminded".into(),
        ));
    }
    Ok(resolved)
}

/// `[[rules]]`, or the built-in ladder when there are none.
pub(super) fn rules(rules: Option<Vec<RuleConfig>>, bad: Bad<'_>) -> Result<Vec<Rule>, Error> {
    match rules {
        None => Ok(ladder::default_rules()),
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, rule)| {
                Rule::from_config(rule).map_err(|m| bad(&format!("[[rules]] #{}", i + 1), m))
            })
            .collect(),
    }
}
