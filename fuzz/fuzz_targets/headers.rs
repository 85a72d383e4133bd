//! Fuzzes the parsing of what scrapers send: any `Accept` or `Accept-Encoding` header text picks a
//! format and a compression, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metrics_generator::http::{accepts_gzip, choose_format};

fuzz_target!(|data: &[u8]| {
    // tiny_http hands over header values as ASCII text.
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let _ = choose_format(Some(header));
    let _ = accepts_gzip(Some(header));
});
