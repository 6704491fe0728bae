//! Line extraction: for any old/new pair, added runs lie inside `new`, in
//! order, on line boundaries, with line numbers that match their offsets;
//! and every line of `new` that `old` does not have (ignoring line ends and
//! trailing whitespace) is inside a run: nothing new goes unscanned.
#![no_main]
use keyguard::lines::added_lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let split = text.find('\u{1}').unwrap_or(text.len() / 2);
    let split = (0..=split)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let (old, new) = text.split_at(split);
    let runs = added_lines(old, new);
    let mut previous_end = 0;
    for run in &runs {
        assert!(run.start >= previous_end && run.start <= run.end && run.end <= new.len());
        assert!(run.start == 0 || new.as_bytes()[run.start - 1] == b'\n');
        let line = new[..run.start].matches('\n').count() as u32 + 1;
        assert_eq!(line, run.first_line);
        previous_end = run.end;
    }
    let comparable = |line: &str| line.trim_end_matches(['\n', '\r', ' ', '\t']).to_string();
    let old_lines: std::collections::HashSet<String> = old.split_inclusive('\n').map(comparable).collect();
    let mut offset = 0;
    for line in new.split_inclusive('\n') {
        if !old_lines.contains(&comparable(line)) {
            assert!(
                runs.iter().any(|r| r.start <= offset && offset < r.end),
                "a line that is new is not in any added run"
            );
        }
        offset += line.len();
    }
});
