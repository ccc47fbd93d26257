//! `[guard]`: the limits a sending run checks before anything leaves. For now, how old a
//! reviewed plan (`run --save-plan`) may be when `run --send --plan` sends it.

use chrono::TimeDelta;
use serde::Deserialize;

use super::Bad;
use crate::error::Error;
use crate::units::parse_duration;

/// How old a plan may be by default: a review in the morning is sent the same day, not the
/// next (yesterday's review no longer says what today's run would send).
pub const DEFAULT_PLAN_MAX_AGE: TimeDelta = TimeDelta::hours(12);

/// `[guard]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// Oldest plan `run --send --plan` takes (default 12h).
    pub plan_max_age: Option<String>,
}

/// `[guard]`, resolved.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Oldest plan `run --send --plan` takes, from its `now` to this run's.
    pub plan_max_age: TimeDelta,
}

impl Default for Guard {
    fn default() -> Guard {
        Guard {
            plan_max_age: DEFAULT_PLAN_MAX_AGE,
        }
    }
}

/// Resolves `[guard]`.
///
/// # Errors
/// A duration that does not parse, or is zero.
pub fn resolve(config: &GuardConfig, bad: Bad<'_>) -> Result<Guard, Error> {
    let plan_max_age = match &config.plan_max_age {
        None => DEFAULT_PLAN_MAX_AGE,
        Some(text) => {
            let age = parse_duration(text).map_err(|e| bad("[guard].plan_max_age", e))?;
            if age <= TimeDelta::zero() {
                return Err(bad(
                    "[guard].plan_max_age",
                    format!(
                        "{text:?} would refuse every plan; write how long a review stays good, like \"12h\""
                    ),
                ));
            }
            age
        }
    };
    Ok(Guard { plan_max_age })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(value: Option<&str>) -> Result<Guard, Error> {
        let bad = |setting: &str, message: String| Error::Setting {
            path: "payremind.toml".into(),
            setting: setting.to_owned(),
            message,
        };
        let config = GuardConfig {
            plan_max_age: value.map(str::to_owned),
        };
        resolve(&config, &bad)
    }

    #[test]
    fn plan_max_age_defaults_to_12h_and_refuses_what_is_no_duration() {
        assert_eq!(resolved(None).unwrap().plan_max_age, TimeDelta::hours(12));
        assert_eq!(
            resolved(Some("90min")).unwrap().plan_max_age,
            TimeDelta::minutes(90)
        );
        for wrong in ["soon", "0s"] {
            let err = resolved(Some(wrong)).unwrap_err().to_string();
            assert!(err.contains("[guard].plan_max_age"), "{err}");
        }
    }
}
