//! Any bytes given as an index file parse or are refused without
//! panicking, and every parsed entry's path, mode and id can be read.
//! Inputs start from a real index header so that the fuzzer reaches the
//! entries and extensions quickly.
#![no_main]
use keyguard::git::index_file::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for bytes in [data.to_vec(), [b"DIRC\0\0\0\x02".as_slice(), data].concat()] {
        if let Ok(index) = parse(&bytes) {
            for entry in &index.entries {
                let _ = (index.path(entry), index.mode(entry), index.id(entry));
            }
            let mut folder = index.cache_tree();
            while let Some(node) = folder {
                let _ = (node.id(), node.entry_count());
                folder = node.child(b"a");
            }
        }
    }
});
