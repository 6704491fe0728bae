//! Any bytes decode without panicking, and decoded text is valid UTF-8
//! whose columns can be computed at every character boundary.
#![no_main]
use keyguard::text::{column_of, decode, Decoded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Decoded::Text(text) = decode(data) {
        for (offset, _) in text.char_indices().take(256) {
            let _ = column_of(&text, offset);
        }
    }
});
