//! Micro-benchmarks of the detector: what one added line costs, what one
//! megabyte costs, and what loading the built-in rules costs (it happens on
//! every commit).
//!
//!     cargo bench --bench detector                 # full measurement
//!     cargo bench --bench detector -- --quick      # a fast smoke run
//!     cargo bench --bench detector -- per_mb       # one group only
//!
//! Every key-shaped input is built at run time from the rules' own example
//! templates (`{{b62crc:30}}` and kin, see `keyguard::rules::examples`): this
//! file holds nothing key-shaped. See benches/perf/README.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use keyguard::detect::keywords::LaneDfa;
use keyguard::detect::{Detector, Match, Profile};
use keyguard::rules::examples::{expand, Rng};
use keyguard::rules::{
    builtin::builtin_specs_from_toml, builtin_specs, widen, Rule, RuleSet, RuleSpec,
};

/// An ordinary added line that contains none of the rules' keywords, so the
/// prefilter alone decides (checked at start-up: a new keyword that makes it
/// a keyword line fails the benchmark loudly rather than measuring the wrong
/// thing).
const PLAIN_LINE: &str =
    "    let total = items.iter().map(|item| item.price * item.quantity).sum::<u64>();\n";

/// A line with keywords (`key`, `token`, `password`-like names are common in
/// real code) whose value is a variable look-up, not a secret: the keyword
/// stage passes it to the regexes, which then find nothing.
const KEYWORD_LINE: &str =
    "    let api_key = std::env::var(\"API_KEY\").context(\"set API_KEY to your key\")?;\n";

/// Pieces of ordinary source code: the 1 MB inputs are drawn from these.
/// Some hit keywords (as real code does), none holds a secret.
const SOURCE_LINES: &[&str] = &[
    "use std::collections::HashMap;",
    "use std::io::{self, BufRead, Write};",
    "",
    "/// Returns the number of widgets in the given frame, counting hidden ones.",
    "pub fn count_widgets(frame: &Frame, include_hidden: bool) -> usize {",
    "    let mut total = 0usize;",
    "    for widget in frame.children() {",
    "        if widget.visible || include_hidden {",
    "            total += 1 + count_widgets(&widget.frame, include_hidden);",
    "        }",
    "    }",
    "    total",
    "}",
    "#[derive(Debug, Clone, PartialEq, Eq, Hash)]",
    "pub struct Config { pub name: String, pub timeout_ms: u64, pub retries: u32 }",
    "impl Default for Config {",
    "    fn default() -> Self { Config { name: String::from(\"default\"), timeout_ms: 3_000, retries: 3 } }",
    "    // TODO: read the path from the environment instead",
    "    let path = std::path::Path::new(&args[1]).join(\"output.json\");",
    "    let token = request.headers().get(\"Authorization\").and_then(|v| v.to_str().ok());",
    "    let password = prompt_password(\"Password: \")?;",
    "    let key = format!(\"{}:{}\", user.id, session.id);",
    "    map.insert(key.clone(), value.to_vec());",
    "    assert_eq!(parse_duration(\"15m\"), Some(Duration::from_secs(900)));",
    "    log::debug!(\"connecting to {}:{} as {}\", host, port, user);",
    "    let url = format!(\"https://{}/api/v2/items?page={}\", host, page);",
    "    match state { State::Idle => {}, State::Busy(n) if n > 3 => backoff(n), _ => retry() }",
    "    writeln!(out, \"{:>8} {:<32} {}\", entry.size, entry.name, entry.modified)?;",
    "    let secret_name = \"database-credentials\"; // the name in the vault, not the value",
    "    const MAX_ATTEMPTS: u32 = 5;",
    "    return Err(Error::new(ErrorKind::InvalidInput, \"expected a positive number\"));",
    "def load_settings(path):",
    "    with open(path, encoding=\"utf-8\") as f:",
    "        return json.load(f)",
    "    client = boto3.client(\"s3\", region_name=os.environ[\"AWS_REGION\"])",
    "    api_key = os.environ.get(\"OPENAI_API_KEY\")",
    "  \"dependencies\": { \"left-pad\": \"^1.3.0\", \"lodash\": \"^4.17.21\" },",
];

fn detector(profile: Profile) -> Detector {
    Detector::new(RuleSet::builtin().expect("built-in rules"), profile)
}

fn specs_and_detector() -> (&'static [RuleSpec], Detector) {
    (builtin_specs(), detector(Profile::Bulk))
}

/// Deterministic source-like text of at least `size` bytes, whole lines.
fn source_text(size: usize, seed: u64) -> String {
    let mut rng = Rng::seeded(seed);
    let mut text = String::with_capacity(size + 256);
    let mut n = 0u64;
    while text.len() < size {
        let line = SOURCE_LINES[rng.below(SOURCE_LINES.len())];
        // Vary identifiers a little so that the text is not one block repeated.
        n += 1;
        if n % 7 == 0 {
            text.push_str(&format!(
                "    let item_{n} = compute_{}(&state, {n});\n",
                rng.below(1000)
            ));
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Lines that hold fake keys: the first example of every `step`-th rule,
/// expanded with fresh random characters.
fn key_lines(specs: &[RuleSpec], count: usize, rng: &mut Rng) -> Vec<String> {
    let with_examples: Vec<&RuleSpec> = specs
        .iter()
        .filter(|s| !s.examples.is_empty() && !s.multiline)
        .collect();
    let step = (with_examples.len() / count).max(1);
    with_examples
        .iter()
        .step_by(step)
        .take(count)
        .map(|s| expand(&s.examples[0], rng).expect("rule example expands"))
        .collect()
}

fn scan(detector: &Detector, text: &str, out: &mut Vec<Match>) -> usize {
    out.clear();
    detector.scan_into(black_box(text), 1, out);
    out.len()
}

fn contains_keyword(specs: &[RuleSpec], line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    specs
        .iter()
        .flat_map(|s| s.keywords.iter())
        .any(|k| lower.contains(&k.to_ascii_lowercase()))
}

fn per_line(c: &mut Criterion) {
    let (specs, detector) = specs_and_detector();
    let mut out = Vec::new();

    assert!(
        !contains_keyword(specs, PLAIN_LINE),
        "PLAIN_LINE now contains a rule keyword: pick another line"
    );
    assert!(
        contains_keyword(specs, KEYWORD_LINE),
        "KEYWORD_LINE no longer contains a keyword"
    );
    assert_eq!(
        scan(&detector, KEYWORD_LINE, &mut out),
        0,
        "KEYWORD_LINE is now a finding"
    );
    let mut rng = Rng::seeded(1);
    let key_line = format!(
        "    let client = Client::new(\"{}\");\n",
        expand("ghp_{{b62crc:30}}", &mut rng).expect("template")
    );
    assert_eq!(
        scan(&detector, &key_line, &mut out),
        1,
        "the key line should be exactly one finding"
    );

    let hook = self::detector(Profile::Hook);
    let mut group = c.benchmark_group("per_line");
    for (profile, detector) in [("bulk", &detector), ("hook", &hook)] {
        group.bench_function(format!("plain_no_keyword_{profile}"), |b| {
            b.iter(|| scan(detector, PLAIN_LINE, &mut out))
        });
        group.bench_function(format!("keyword_no_match_{profile}"), |b| {
            b.iter(|| scan(detector, KEYWORD_LINE, &mut out))
        });
        group.bench_function(format!("one_key_{profile}"), |b| {
            b.iter(|| scan(detector, &key_line, &mut out))
        });
    }
    group.finish();
}

fn per_mb(c: &mut Criterion) {
    let (specs, detector) = specs_and_detector();
    let mut out = Vec::new();

    let clean = source_text(1 << 20, 7);
    assert_eq!(
        scan(&detector, &clean, &mut out),
        0,
        "the clean megabyte has findings"
    );

    // The same megabyte with a few keys spread through it (one every ~100 KB).
    let mut rng = Rng::seeded(2);
    let keys = key_lines(specs, 10, &mut rng);
    let mut lines: Vec<&str> = clean.lines().collect();
    let gap = lines.len() / (keys.len() + 1);
    for (i, key) in keys.iter().enumerate().rev() {
        lines.insert((i + 1) * gap, key);
    }
    let mut with_keys = lines.join("\n");
    with_keys.push('\n');
    let found = scan(&detector, &with_keys, &mut out);
    assert!(
        found >= keys.len() / 2,
        "only {found} of {} planted keys found",
        keys.len()
    );

    let mut group = c.benchmark_group("per_mb");
    group.throughput(Throughput::Bytes(clean.len() as u64));
    group.bench_function("source_no_match", |b| {
        b.iter(|| scan(&detector, &clean, &mut out))
    });
    group.throughput(Throughput::Bytes(with_keys.len() as u64));
    group.bench_function("source_few_matches", |b| {
        b.iter(|| scan(&detector, &with_keys, &mut out))
    });
    group.finish();
}

/// Loading the rules happens on every commit: the built-in rules are
/// statics (`statics_to_detector`), which is why no TOML is parsed at run
/// time (`builtin_specs_toml` is what parsing it would cost). Regexes are
/// compiled lazily, so the `first_scan_*` cases add the cost of compiling
/// the rules a line needs, for each profile.
fn rule_loading(c: &mut Criterion) {
    let mut group = c.benchmark_group("rules");
    group.bench_function("builtin_specs_toml", |b| {
        b.iter(|| black_box(builtin_specs_from_toml().unwrap()).len())
    });
    group.bench_function("statics_to_detector", |b| {
        b.iter(|| detector(Profile::Hook).rules().len())
    });
    let mut rng = Rng::seeded(3);
    let key_line = format!(
        "token = \"{}\"\n",
        expand("ghp_{{b62crc:30}}", &mut rng).expect("template")
    );
    // Common words that are keywords (`key`, `token`) on lines with no key.
    let keyword_lines =
        "        Err(Error::key_not_string())\n    let token = next_token(&mut lexer)?;\n";
    let cases = [
        ("plain", PLAIN_LINE),
        ("one_key", key_line.as_str()),
        ("keyword_lines", keyword_lines),
    ];
    for (profile_name, profile) in [("hook", Profile::Hook), ("bulk", Profile::Bulk)] {
        for (name, text) in cases {
            group.bench_function(format!("first_scan_{name}_{profile_name}"), |b| {
                b.iter_batched(
                    || detector(profile),
                    |detector| {
                        let mut out = Vec::new();
                        detector.scan_into(text, 1, &mut out);
                        out.len()
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

/// What the hook's widened prefilter (src/rules/widen.rs) saves: compiling
/// the rule with the largest counted repetitions for the hook, against
/// compiling its widened stand-in.
fn widening(c: &mut Criterion) {
    let spec = builtin_specs()
        .iter()
        .filter(|s| widen::widen_counted_repetitions(&s.regex).is_some())
        .max_by_key(|s| s.regex.len())
        .expect("a built-in rule worth widening");
    let mut group = c.benchmark_group("widen");
    group.bench_function("compile_rule_for_the_hook", |b| {
        b.iter(|| {
            let rule = Rule::new(spec).expect("built-in rule");
            rule.compiled(Profile::Hook).secret_groups.len()
        })
    });
    group.bench_function("widen_pattern_at_run_time", |b| {
        b.iter(|| widen::widened_pattern(&spec.regex, spec.multiline).is_some())
    });
    group.finish();
}

/// The bulk keyword search: the lane walk over aho-corasick's DFA against
/// aho-corasick's own overlapping search with the same DFA (the lane walk
/// is kept only while it wins here).
fn keywords(c: &mut Criterion) {
    let mut keywords: Vec<String> = builtin_specs()
        .iter()
        .flat_map(|s| s.keywords.iter().map(|k| k.to_ascii_lowercase()))
        .collect();
    keywords.sort();
    keywords.dedup();
    let text = source_text(1 << 20, 11);
    let lanes = LaneDfa::new(&keywords);
    let plain = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&keywords)
        .expect("keywords build");
    let mut group = c.benchmark_group("keywords");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("lanes_dfa", |b| {
        b.iter(|| {
            let mut n = 0usize;
            lanes.for_each_match(black_box(text.as_bytes()), |_, _| n += 1);
            n
        })
    });
    group.bench_function("aho_corasick_overlapping_dfa", |b| {
        b.iter(|| {
            plain
                .find_overlapping_iter(black_box(text.as_bytes()))
                .count()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = per_line, per_mb, rule_loading, widening, keywords
}
criterion_main!(benches);
