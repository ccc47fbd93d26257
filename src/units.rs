//! Units every stage reads from the seller's words: durations (`2h`), rates (`20/s`) and
//! labels compared without case (statuses, channels). A leaf: it imports nothing of payremind,
//! so any stage may use it without tying itself to another.

use chrono::TimeDelta;

/// Parses a duration like `2h`, `90min`, `7d` or `1d 12h`.
///
/// # Errors
/// A text humantime does not understand, with an example of what it does.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let std = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("{text:?} is not a duration ({e}); write it like \"2h\", \"30min\" or \"7d\"")
    })?;
    TimeDelta::from_std(std).map_err(|_| format!("{text:?} is too long"))
}

/// Parses `20/s`, `600/min`, `3000/h` into messages per second.
///
/// # Errors
/// A text that is not a positive count per second, minute or hour.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let hint =
        || format!("{text:?} is not a rate; write it like \"20/s\", \"600/min\" or \"none\"");
    let (count, unit) = text.split_once('/').ok_or_else(hint)?;
    let count: f64 = count.trim().parse().map_err(|_| hint())?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(hint()),
    };
    if count <= 0.0 || !count.is_finite() {
        return Err(hint());
    }
    // Slower than one an hour is a typo (`1e-30/s` would wait longer than time can say).
    if count / per < 1.0 / 3600.0 {
        return Err(format!(
            "{text:?} is slower than one message an hour; write a rate like \"20/s\" or \"600/min\", or \"none\""
        ));
    }
    Ok(count / per)
}

/// How status labels and channels are compared: trimmed, case-insensitive.
#[must_use]
pub fn normalize_label(label: &str) -> String {
    label.trim().to_lowercase()
}

/// Whether `label` is already what [`normalize_label`] makes of it (checked without
/// allocating, for values read on every row).
#[must_use]
pub fn is_normal_label(label: &str) -> bool {
    label.trim() == label && label.chars().all(|c| c.to_lowercase().eq([c]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_normal_exactly_when_normalizing_leaves_it_alone() {
        for label in [
            "paid",
            "Paid",
            " paid",
            "paid\t",
            "等待买家付款",
            "wc-pending",
            "İ",
            "ǅ",
            "ß",
            "ẞ",
            "",
        ] {
            assert_eq!(
                is_normal_label(label),
                normalize_label(label) == label,
                "{label:?}"
            );
        }
    }
}
