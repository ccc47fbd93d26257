//! The control group of `[experiment]`: which buyers are held out. The one place the decision
//! is made, and the last rule of the second pass: only an order that would get a reminder
//! today is held out, at the step it would have got.
//!
//! A buyer is in the control group when the SHA-256 of the salt and the buyer's identity
//! ([`crate::order::buyer_identity`]), read as a number, falls in the first `control` share of
//! all numbers. The hash is stable (not Rust's randomised hasher): the same buyer is in the same
//! group on every run, in the preview and in the send, on every computer and every release, as
//! long as the salt stays the same.

use sha2::{Digest, Sha256};

use crate::config::Experiment;
use crate::report::Reason;

/// `control_group` when the buyer is held out, else nothing.
#[must_use]
pub fn hold_out(experiment: &Experiment, buyer: &str) -> Option<Reason> {
    (experiment.is_on() && bucket(&experiment.salt, buyer) < experiment.control_basis_points)
        .then_some(Reason::ControlGroup)
}

/// The buyer's place among 10 000 buckets: the first 8 bytes of SHA-256(salt, 0, buyer) as a
/// big-endian number, modulo 10 000 (the bias of the modulo is below 10⁻¹⁵).
#[must_use]
pub fn bucket(salt: &str, buyer: &str) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0]);
    hasher.update(buyer.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0_u8; 8];
    first.copy_from_slice(&digest[..8]);
    u32::try_from(u64::from_be_bytes(first) % 10_000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_stable_across_runs_and_releases() {
        // Pinned: a change here moves buyers between the groups of a running experiment.
        let pinned: Vec<u32> = ["a@example.com", "b@example.com", "12345"]
            .iter()
            .map(|b| bucket("Tea House", b))
            .collect();
        assert_eq!(pinned, PINNED.to_vec());
        // The salt draws another group.
        assert_ne!(bucket("Tea House", "12345"), bucket("Other", "12345"));
    }

    const PINNED: [u32; 3] = [8792, 2270, 639];

    #[test]
    fn about_the_share_asked_for_is_held_out() {
        let experiment = Experiment {
            control_basis_points: 1000,
            salt: "Tea House".into(),
        };
        let held = (0..10_000)
            .filter(|i| hold_out(&experiment, &format!("buyer{i}@example.com")).is_some())
            .count();
        assert!(
            (900..1100).contains(&held),
            "{held} of 10 000 held out at 10%"
        );
        let off = Experiment::default();
        assert_eq!(hold_out(&off, "buyer@example.com"), None);
    }
}
