//! The detector with every built-in rule: any text scans without panicking,
//! every match points inside the text it came from, and both profiles find
//! the same matches.
#![no_main]
use std::sync::LazyLock;

use keyguard::detect::{Detector, Profile};
use keyguard::rules::{builtin_specs, RuleSet};
use libfuzzer_sys::fuzz_target;

static DETECTOR: LazyLock<Detector> = LazyLock::new(|| {
    Detector::new(RuleSet::from_specs(builtin_specs()).unwrap(), Profile::Bulk)
});
static HOOK: LazyLock<Detector> = LazyLock::new(|| DETECTOR.with_profile(Profile::Hook));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut found = Vec::new();
    DETECTOR.scan_into(&text, 1, &mut found);
    let mut in_hook = Vec::new();
    HOOK.scan_into(&text, 1, &mut in_hook);
    assert_eq!(found, in_hook);
    let lines = text.matches('\n').count() as u32 + 1;
    for m in found {
        assert!(m.line >= 1 && m.line <= lines);
        assert!(m.span.0 <= m.span.1 && m.span.1 <= text.len());
    }
});
