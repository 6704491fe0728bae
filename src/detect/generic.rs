//! Loose `name = value` rules against specific ones: where both report the
//! same secret, the specific rule's name is kept.

use super::{Detector, Match};

impl Detector {
    /// Where a specific rule and a loose `name = value` rule report the same
    /// secret, keep only the specific one: it names the provider. Where a
    /// specific rule rejected the value (`vetoed`), drop the generic match.
    /// Only `out[first_new..]` is considered.
    pub(super) fn drop_generic_overlaps(
        &self,
        out: &mut Vec<Match>,
        first_new: usize,
        vetoed: &[(usize, usize)],
    ) {
        let rules = self.rules();
        let new = &out[first_new..];
        let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
        let overlaps_specific = |m: &Match| {
            new.iter()
                .any(|other| !rules[other.rule].generic && overlaps(other.span, m.span))
                || vetoed.iter().any(|&span| overlaps(span, m.span))
        };
        let keep: Vec<bool> = new
            .iter()
            .map(|m| !(rules[m.rule].generic && overlaps_specific(m)))
            .collect();
        let mut index = 0;
        out.retain(|_| {
            let kept = index < first_new || keep[index - first_new];
            index += 1;
            kept
        });
    }
}
