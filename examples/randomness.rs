//! How well does a randomness measure tell generated keys from the tokens
//! that fill real code? Compares Shannon entropy (at its best threshold)
//! with keyguard's word-shape + naturalness test (src/detect/randomness.rs).
//!
//!     cargo run --release --example randomness [-- DIR]
//!
//! Positives: random strings in the alphabets keys use (base62, base64,
//! base64url, hex, upper+digits), 12 to 64 characters, generated here.
//! Negatives: distinct tokens of 8 to 64 characters from the source files
//! under DIR (default: the cargo registry sources), the identifiers, words,
//! paths and constants a generic `name = value` rule sees. Real code holds
//! a few genuinely random strings too (hashes, test keys), so neither
//! measure can reach a perfect score on these labels.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use keyguard::detect::entropy::shannon;
use keyguard::detect::randomness::looks_random;
use keyguard::rules::examples::{alphabet, random_string, Rng};

const MAX_NEGATIVES: usize = 100_000;

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(default_root);
    let negatives = harvest_tokens(&root);
    let mut rng = Rng::seeded(2024);
    let mut positives = Vec::new();
    for name in ["b62", "b64", "b64url", "hex", "upnum"] {
        for length in [12, 16, 20, 24, 32, 40, 48, 64] {
            for _ in 0..250 {
                positives.push(random_string(
                    alphabet(name).expect("known alphabet"),
                    length,
                    &mut rng,
                ));
            }
        }
    }
    println!(
        "positives: {} generated keys; negatives: {} distinct tokens from {}",
        positives.len(),
        negatives.len(),
        root.display()
    );

    let score = |tp: usize, fp: usize| {
        let fn_ = positives.len() - tp;
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        let f1 = 2.0 * precision * recall / (precision + recall).max(f64::EPSILON);
        (precision, recall, f1)
    };

    // Entropy at every threshold; report the best F1 it can reach.
    let mut best = (0.0, (0.0, 0.0, 0.0));
    for step in 0..=60 {
        let threshold = 2.0 + f64::from(step) * 0.05;
        let tp = positives
            .iter()
            .filter(|p| shannon(p.as_bytes()) >= threshold)
            .count();
        let fp = negatives
            .iter()
            .filter(|n| shannon(n.as_bytes()) >= threshold)
            .count();
        let scored = score(tp, fp);
        if scored.2 > best.1 .2 {
            best = (threshold, scored);
        }
    }
    let tp = positives
        .iter()
        .filter(|p| looks_random(p.as_bytes()))
        .count();
    let fp = negatives
        .iter()
        .filter(|n| looks_random(n.as_bytes()))
        .count();
    let ours = score(tp, fp);
    let (threshold, (p, r, f)) = best;
    println!(
        "{:<44} {:>9} {:>7} {:>6}",
        "measure", "precision", "recall", "F1"
    );
    println!(
        "{:<44} {p:>9.3} {r:>7.3} {f:>6.3}",
        format!("Shannon entropy >= {threshold:.2} (best threshold)")
    );
    println!(
        "{:<44} {:>9.3} {:>7.3} {:>6.3}",
        "word shape + naturalness (looks_random)", ours.0, ours.1, ours.2
    );
    // As the generic rules use it: together with their entropy floor.
    let both = |v: &String| looks_random(v.as_bytes()) && shannon(v.as_bytes()) >= 2.8;
    let combined = score(
        positives.iter().filter(|p| both(p)).count(),
        negatives.iter().filter(|n| both(n)).count(),
    );
    println!(
        "{:<44} {:>9.3} {:>7.3} {:>6.3}",
        "looks_random and entropy >= 2.8 (generic rules)", combined.0, combined.1, combined.2
    );
    println!(
        "false positives on real tokens: entropy {}, looks_random {fp}",
        {
            negatives
                .iter()
                .filter(|n| shannon(n.as_bytes()) >= threshold)
                .count()
        }
    );
}

fn default_root() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("registry").join("src")
}

/// Distinct tokens (runs of `[A-Za-z0-9_.:/+=-]`, 8 to 64 long) from text
/// files under `root`.
fn harvest_tokens(root: &Path) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut tokens = Vec::new();
    for entry in ignore::WalkBuilder::new(root).build().flatten() {
        if tokens.len() >= MAX_NEGATIVES {
            break;
        }
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || "_.:/+=-".contains(c))) {
            let token = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            if (8..=64).contains(&token.len()) && seen.insert(token.to_string()) {
                tokens.push(token.to_string());
            }
        }
    }
    tokens
}
