//! Confidence intervals for paid rates: Wilson's score interval for one rate, and Newcombe's
//! hybrid score interval (his method 10) for the difference of two. Both behave at 0 % and
//! 100 % and with small groups, where the textbook `p ± 1.96·√(p(1−p)/n)` gives intervals
//! outside 0–1 or of zero width. Rates are not money: floats are fine here.

/// The normal quantile of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson's score interval for `successes` of `n` (Newcombe 1998, method 3): `None` when
/// `n` is 0.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn wilson(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (r, n) = (successes as f64, n as f64);
    let p = r / n;
    let z2 = z * z;
    let denominator = 2.0 * (n + z2);
    let centre = 2.0 * r + z2;
    let spread = z * (z2 + 4.0 * r * (1.0 - p)).sqrt();
    Some((
        ((centre - spread) / denominator).max(0.0),
        ((centre + spread) / denominator).min(1.0),
    ))
}

/// Newcombe's hybrid score interval for p₁ − p₂ (method 10): the difference, and its lower
/// and upper limits, from the Wilson limits of each rate. `None` when a group is empty.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn newcombe(a: u64, m: u64, b: u64, n: u64, z: f64) -> Option<(f64, f64, f64)> {
    let (l1, u1) = wilson(a, m, z)?;
    let (l2, u2) = wilson(b, n, z)?;
    let p1 = a as f64 / m as f64;
    let p2 = b as f64 / n as f64;
    let d = p1 - p2;
    let lower = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let upper = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((d, lower, upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round4(x: f64) -> f64 {
        (x * 10_000.0).round() / 10_000.0
    }

    /// Newcombe, R. G. (1998), "Interval estimation for the difference between independent
    /// proportions: comparison of eleven methods", Statistics in Medicine 17, 873–890,
    /// Table II, method 10, his worked examples (a) to (d). (56/70 − 48/80 is 0.2, not
    /// 0.1833; its interval is 0.0524 to 0.3339.)
    #[test]
    fn newcombe_s_published_examples() {
        for ((a, m, b, n), (d, lower, upper)) in [
            ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
            ((9, 10, 3, 10), (0.6, 0.1705, 0.8090)),
            ((6, 7, 2, 7), (0.5714, 0.0582, 0.8062)),
            ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
        ] {
            let (got_d, got_l, got_u) = newcombe(a, m, b, n, Z95).unwrap();
            assert_eq!(
                (round4(got_d), round4(got_l), round4(got_u)),
                (d, lower, upper),
                "{a}/{m} - {b}/{n}"
            );
        }
    }

    /// Wilson's interval for 81/263 (Newcombe 1998b, method 3): 0.2553 to 0.3662.
    #[test]
    fn wilson_s_interval_and_the_edges() {
        let (l, u) = wilson(81, 263, Z95).unwrap();
        assert_eq!((round4(l), round4(u)), (0.2553, 0.3662));
        let (l, u) = wilson(0, 10, Z95).unwrap();
        assert_eq!((l, round4(u)), (0.0, 0.2775));
        assert_eq!(wilson(0, 0, Z95), None);
    }
}
