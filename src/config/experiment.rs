//! `[experiment]`: the control group. A share of buyers is held out (never reminded while the
//! experiment runs) so that `payremind report` can tell what the reminders earned from what
//! those buyers would have paid anyway.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::Bad;
use crate::error::Error;

/// `[experiment]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The share of buyers held out, like `"10%"` (default: none, the experiment is off).
    pub control: Option<String>,
    /// What the buyer's identity is hashed with (default: the shop's name). A new salt draws
    /// a new control group.
    pub salt: Option<String>,
}

/// `[experiment]`, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Experiment {
    /// The share held out, in basis points (1/100 of a percent): 0 = off, at most 5 000.
    pub control_basis_points: u32,
    /// The salt of the hash (the shop's name unless set).
    pub salt: String,
}

impl Experiment {
    /// Whether a control group is held out.
    #[must_use]
    pub fn is_on(&self) -> bool {
        self.control_basis_points > 0
    }

    /// The share as the seller wrote it back, like `10%`.
    #[must_use]
    pub fn share(&self) -> String {
        format!(
            "{}%",
            (Decimal::from(self.control_basis_points) / Decimal::ONE_HUNDRED).normalize()
        )
    }
}

/// The largest share a seller may hold out: beyond half, most buyers would get no reminder.
const MAX_BASIS_POINTS: u32 = 5_000;

/// `[experiment]`: the share parsed (`"10%"`, `"2.5%"`, `"0%"`), the salt defaulted.
pub(super) fn resolve(
    config: &ExperimentConfig,
    shop_name: &str,
    bad: Bad<'_>,
) -> Result<Experiment, Error> {
    let control_basis_points = match config.control.as_deref() {
        None => 0,
        Some(text) => parse_share(text).ok_or_else(|| {
            bad(
                "[experiment].control",
                format!(
                    "is {text:?}; write the share of buyers to hold out as a percentage from \"0%\" (off) to \"50%\", like \"10%\""
                ),
            )
        })?,
    };
    let salt = match config.salt.as_deref().map(str::trim) {
        Some("") => {
            return Err(bad(
                "[experiment].salt",
                "is empty; remove the line to use the shop's name, or write any text, like \"spring-2027\"".into(),
            ));
        }
        Some(salt) => salt.to_owned(),
        None => shop_name.to_owned(),
    };
    Ok(Experiment {
        control_basis_points,
        salt,
    })
}

/// `"10%"` as basis points (1 000); `None` for anything but a percentage from 0 to 50 with at
/// most two decimals.
fn parse_share(text: &str) -> Option<u32> {
    let number = text.trim().strip_suffix('%')?.trim();
    let value: Decimal = number.parse().ok()?;
    let basis = value * Decimal::ONE_HUNDRED;
    if value.is_sign_negative() || basis.fract() != Decimal::ZERO {
        return None;
    }
    let basis = rust_decimal::prelude::ToPrimitive::to_u32(&basis)?;
    (basis <= MAX_BASIS_POINTS).then_some(basis)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, Settings};

    fn resolve(section: &str) -> Result<super::Experiment, String> {
        let text = format!("[shop]\nname = \"Tea House\"\n[experiment]\n{section}");
        let path = Path::new("payremind.toml");
        Config::parse(&text, path)
            .and_then(|c| Settings::resolve(c, Some(path)))
            .map(|s| s.experiment)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_share_and_the_salt() {
        let off = resolve("").unwrap();
        assert!(!off.is_on());
        assert_eq!(off.salt, "Tea House");
        let ten = resolve("control = \"10%\"\n").unwrap();
        assert_eq!(
            (ten.control_basis_points, ten.share()),
            (1000, "10%".into())
        );
        let fine = resolve("control = \"2.5 %\"\nsalt = \"spring\"\n").unwrap();
        assert_eq!(
            (fine.control_basis_points, fine.salt.as_str()),
            (250, "spring")
        );
        assert_eq!(
            resolve("control = \"50%\"\n").unwrap().control_basis_points,
            5000
        );
        assert!(!resolve("control = \"0%\"\n").unwrap().is_on());
    }

    #[test]
    fn a_share_that_is_not_one_names_the_key() {
        for bad in ["\"60%\"", "\"10\"", "\"-5%\"", "\"ten%\"", "\"0.001%\""] {
            let err = resolve(&format!("control = {bad}\n")).unwrap_err();
            assert!(err.contains("[experiment].control"), "{bad}: {err}");
        }
        let err = resolve("salt = \" \"\n").unwrap_err();
        assert!(err.contains("[experiment].salt"), "{err}");
    }
}
