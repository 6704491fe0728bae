//! The detector with every built-in rule: any text scans without panicking,
//! and every match points inside the text it came from.
#![no_main]
use std::sync::LazyLock;

use keyguard::detect::Detector;
use keyguard::rules::builtin_specs;
use libfuzzer_sys::fuzz_target;

static DETECTOR: LazyLock<Detector> = LazyLock::new(|| {
    Detector::new(
        builtin_specs()
            .iter()
            .map(|s| s.compile().unwrap())
            .collect(),
    )
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut found = Vec::new();
    DETECTOR.scan_into(&text, 1, &mut found);
    let lines = text.matches('\n').count() as u32 + 1;
    for m in found {
        assert!(m.line >= 1 && m.line <= lines);
        assert!(m.span.0 <= m.span.1 && m.span.1 <= text.len());
    }
});
