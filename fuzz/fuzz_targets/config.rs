//! Config parsing: any text either parses into a usable scanner or gives an
//! error; it never panics, and user regexes stay within their size bound.
#![no_main]
use std::path::Path;

use keyguard::config::Config;
use keyguard::detect::Profile;
use keyguard::scan::Scanner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text, Path::new("fuzz.toml")) {
        if let Ok(scanner) = Scanner::from_config(&config, Profile::Hook) {
            let mut found = Vec::new();
            let line = format!("api_key = \"{}\"\n", ["a1B2c3D4", "e5F6g7H8"].concat());
            scanner.detector().scan_into(&line, 1, &mut found);
        }
    }
});
