//! `[guard]`: the limits past which `run --send` stops instead of mailing buyers (a plan too
//! old to trust, yesterday's export, an unusual number of reminders).

use chrono::TimeDelta;
use serde::Deserialize;

use super::Bad;
use crate::error::Error;
use crate::units::parse_duration;

/// `[guard]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// How old a saved plan may be when `--send --plan` sends it (default `12h`).
    pub plan_max_age: Option<String>,
    /// How old the newest order of the export may be at `now` (default `26h`): older, and it
    /// is yesterday's download.
    pub max_export_age: Option<String>,
    /// The most reminders one sending run sends without `--force` (default 1000).
    pub max_per_run: Option<u64>,
    /// How many times the median of the last sending runs' reminders one run may send without
    /// `--force` (default 3.0).
    pub max_growth: Option<f64>,
}

/// `[guard]`, resolved.
#[derive(Debug, Clone)]
pub struct Guard {
    /// See [`GuardConfig::plan_max_age`].
    pub plan_max_age: TimeDelta,
    /// See [`GuardConfig::max_export_age`].
    pub max_export_age: TimeDelta,
    /// See [`GuardConfig::max_per_run`].
    pub max_per_run: u64,
    /// See [`GuardConfig::max_growth`].
    pub max_growth: f64,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            plan_max_age: TimeDelta::hours(12),
            max_export_age: TimeDelta::hours(26),
            max_per_run: 1000,
            max_growth: 3.0,
        }
    }
}

/// `[guard]`: durations parsed, limits checked to be limits.
pub(super) fn resolve(guard: &GuardConfig, bad: Bad<'_>) -> Result<Guard, Error> {
    let duration = |key: &str, value: Option<&str>, default: &str| {
        let delta = parse_duration(value.unwrap_or(default))
            .map_err(|m| bad(&format!("[guard].{key}"), m))?;
        if delta <= TimeDelta::zero() {
            return Err(bad(
                &format!("[guard].{key}"),
                "is zero; write a duration like \"26h\"".to_owned(),
            ));
        }
        Ok(delta)
    };
    let max_per_run = guard.max_per_run.unwrap_or(1000);
    if max_per_run == 0 {
        return Err(bad(
            "[guard].max_per_run",
            "is 0, so nothing could ever be sent; write the most reminders one run may send, like 1000".to_owned(),
        ));
    }
    let max_growth = guard.max_growth.unwrap_or(3.0);
    if !max_growth.is_finite() || max_growth < 1.0 {
        return Err(bad(
            "[guard].max_growth",
            format!(
                "is {max_growth}; write how many times the usual number of reminders one run may send, 1.0 or more, like 3.0"
            ),
        ));
    }
    Ok(Guard {
        plan_max_age: duration("plan_max_age", guard.plan_max_age.as_deref(), "12h")?,
        max_export_age: duration("max_export_age", guard.max_export_age.as_deref(), "26h")?,
        max_per_run,
        max_growth,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, Settings};
    use crate::error::Error;

    fn resolve(guard: &str) -> Result<Settings, Error> {
        let text = format!("[shop]\nname = \"S\"\n[guard]\n{guard}");
        let path = Path::new("payremind.toml");
        Settings::resolve(Config::parse(&text, path)?, Some(path))
    }

    #[test]
    fn the_defaults_and_a_seller_s_own_limits() {
        let guard = resolve("").unwrap().guard;
        assert_eq!(guard.max_export_age, chrono::TimeDelta::hours(26));
        assert_eq!(guard.plan_max_age, chrono::TimeDelta::hours(12));
        assert_eq!((guard.max_per_run, guard.max_growth), (1000, 3.0));
        let guard = resolve("max_export_age = \"3d\"\nmax_per_run = 50\nmax_growth = 1.5\n")
            .unwrap()
            .guard;
        assert_eq!(guard.max_export_age, chrono::TimeDelta::days(3));
        assert_eq!((guard.max_per_run, guard.max_growth), (50, 1.5));
    }

    #[test]
    fn a_limit_that_is_no_limit_names_its_key() {
        for (text, key) in [
            ("max_export_age = \"yesterday\"\n", "[guard].max_export_age"),
            ("max_export_age = \"0s\"\n", "[guard].max_export_age"),
            ("max_per_run = 0\n", "[guard].max_per_run"),
            ("max_growth = 0.5\n", "[guard].max_growth"),
            ("max_growht = 2.0\n", "unknown field `max_growht`"),
        ] {
            let err = resolve(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
    }
}
