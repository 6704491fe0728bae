//! Line extraction: for any old/new pair, added runs lie inside `new`, in
//! order, on line boundaries, with line numbers that match their offsets.
#![no_main]
use keyguard::git::staged::added_lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let split = text.find('\u{1}').unwrap_or(text.len() / 2);
    let split = (0..=split)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let (old, new) = text.split_at(split);
    let runs = added_lines(old, new).expect("diffing text never fails");
    let mut previous_end = 0;
    for run in runs {
        assert!(run.start >= previous_end && run.start <= run.end && run.end <= new.len());
        assert!(run.start == 0 || new.as_bytes()[run.start - 1] == b'\n');
        let line = new[..run.start].matches('\n').count() as u32 + 1;
        assert_eq!(line, run.first_line);
        previous_end = run.end;
    }
});
