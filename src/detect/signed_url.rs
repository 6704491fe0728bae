//! Signed URLs past their expiry, whichever rule found a value in them.
//!
//! A pre-signed URL carries its own expiry: Azure's shared access
//! signature (`se=`), AWS Signature Version 4 and Google Cloud Storage V4
//! (`X-Amz-Date` or `X-Goog-Date` plus `…-Expires` seconds), and the older
//! query signatures of S3 and CloudFront (`Expires=`, Unix seconds). Past it
//! the signature opens nothing, and the access key id the URL names is in it
//! by design, to be handed out. The URLs in documentation and API examples
//! expired long ago; one pasted from a live session has not.

use std::ops::Range;

/// Does the value at `value` in `line` sit in the query of a signed URL (or
/// a bare SAS token) whose every stated expiry is before `now`? A query
/// without a signature, or without an expiry that reads as a date, has not
/// expired.
pub fn is_expired(line: &[u8], value: Range<usize>, now: u64) -> bool {
    let Some(query) = enclosing_query(line, value) else {
        return false;
    };
    let mut signed = false;
    let mut expiries = Vec::new();
    let (mut amz_date, mut amz_expires) = (None, None);
    let (mut goog_date, mut goog_expires) = (None, None);
    for param in query.split(|&b| b == b'&') {
        // `&amp;` in HTML and XML documentation leaves `amp;` before a name.
        let param = param.strip_prefix(b"amp;").unwrap_or(param);
        let Some(eq) = param.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, raw) = (param[..eq].to_ascii_lowercase(), &param[eq + 1..]);
        let value = percent_decoded(raw);
        match name.as_slice() {
            b"sig" | b"signature" | b"x-amz-signature" | b"x-goog-signature" => signed = true,
            b"se" => expiries.extend(iso_8601(&value)),
            b"expires" => expiries.extend(unix_seconds(&value)),
            b"x-amz-date" => amz_date = basic_timestamp(&value),
            b"x-amz-expires" => amz_expires = seconds(&value),
            b"x-goog-date" => goog_date = basic_timestamp(&value),
            b"x-goog-expires" => goog_expires = seconds(&value),
            _ => {}
        }
    }
    for (date, lifetime) in [(amz_date, amz_expires), (goog_date, goog_expires)] {
        if let (Some(date), Some(lifetime)) = (date, lifetime) {
            expiries.push(date.saturating_add(lifetime));
        }
    }
    signed && !expiries.is_empty() && expiries.iter().all(|&expiry| expiry < now)
}

/// The query the value is part of: the run of URL characters around it,
/// from after its `?` if it has one. `None` when the run holds no `&`
/// (one parameter cannot name both a signature and an expiry).
fn enclosing_query(line: &[u8], value: Range<usize>) -> Option<&[u8]> {
    let ends_run = |b: &u8| {
        b.is_ascii_whitespace()
            || matches!(
                b,
                b'"' | b'\'' | b'`' | b'<' | b'>' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'\\'
            )
    };
    let start = line[..value.start]
        .iter()
        .rposition(ends_run)
        .map_or(0, |i| i + 1);
    let end = line[value.end..]
        .iter()
        .position(ends_run)
        .map_or(line.len(), |i| value.end + i);
    let run = &line[start..end];
    let query = run
        .iter()
        .position(|&b| b == b'?')
        .map_or(run, |q| &run[q + 1..]);
    query.contains(&b'&').then_some(query)
}

/// `%XX` escapes undone (`2023-12-20T22%3A54%3A52Z`); anything else kept.
fn percent_decoded(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

/// A count of seconds (`3600`).
fn seconds(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 12 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// A moment in Unix seconds: ten digits or more, so that a relative count
/// (`Expires=3600`) is not taken for a date in 1970.
fn unix_seconds(text: &[u8]) -> Option<u64> {
    (text.len() >= 10).then(|| seconds(text)).flatten()
}

/// `20190814T220617Z`, as Signature Version 4 writes its date.
fn basic_timestamp(text: &[u8]) -> Option<u64> {
    let [y0, y1, y2, y3, mo0, mo1, d0, d1, b'T', h0, h1, mi0, mi1, s0, s1, b'Z'] = *text else {
        return None;
    };
    let num = |digits: &[u8]| seconds(digits);
    epoch_seconds(
        num(&[y0, y1, y2, y3])?,
        num(&[mo0, mo1])?,
        num(&[d0, d1])?,
        (num(&[h0, h1])?, num(&[mi0, mi1])?, num(&[s0, s1])?),
    )
}

/// `2023-12-20`, `2023-12-20T22:54Z` or `2023-12-20T22:54:52Z`, as a SAS
/// writes its expiry (ISO 8601 in UTC). A date alone ends at its midnight.
fn iso_8601(text: &[u8]) -> Option<u64> {
    let field = |range: Range<usize>| text.get(range).and_then(seconds);
    if text.len() < 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let time = match &text[10..] {
        [] => (0, 0, 0),
        [b'T', rest @ ..] if rest.len() >= 5 && rest[2] == b':' => {
            let second = if rest.get(5) == Some(&b':') {
                field(17..19)?
            } else {
                0
            };
            (field(11..13)?, field(14..16)?, second)
        }
        _ => return None,
    };
    epoch_seconds(year, month, day, time)
}

/// Seconds since 1970-01-01T00:00:00Z of a date and time in UTC, for a
/// date that exists (days from the civil calendar, proleptic Gregorian).
fn epoch_seconds(
    year: u64,
    month: u64,
    day: u64,
    (hour, minute, second): (u64, u64, u64),
) -> Option<u64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > month_days[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from the civil calendar, counting years from March so that a
    // leap day ends its year.
    let (march_year, from_march) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let (era, year_of_era) = (march_year / 400, march_year % 400);
    let day_of_year = (153 * from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T00:00:00Z.
    const NOW: u64 = 1_796_083_200;

    /// Where `needle` is in `line`.
    fn span(line: &str, needle: &str) -> Range<usize> {
        let start = line.find(needle).expect("the needle is in the line");
        start..start + needle.len()
    }

    fn expired(line: &str, needle: &str) -> bool {
        is_expired(line.as_bytes(), span(line, needle), NOW)
    }

    #[test]
    fn dates_count_from_the_epoch() {
        assert_eq!(epoch_seconds(1970, 1, 1, (0, 0, 0)), Some(0));
        assert_eq!(epoch_seconds(2000, 3, 1, (0, 0, 0)), Some(951_868_800));
        assert_eq!(epoch_seconds(2026, 12, 1, (0, 0, 0)), Some(NOW));
        assert_eq!(
            epoch_seconds(2024, 2, 29, (23, 59, 59)),
            Some(1_709_251_199)
        );
        assert_eq!(epoch_seconds(2023, 2, 29, (0, 0, 0)), None);
        assert_eq!(epoch_seconds(2023, 13, 1, (0, 0, 0)), None);
        assert_eq!(iso_8601(b"2026-12-01"), Some(NOW));
        assert_eq!(iso_8601(b"2026-12-01T00:01Z"), Some(NOW + 60));
        assert_eq!(iso_8601(b"2026-12-01T00:00:05Z"), Some(NOW + 5));
        assert_eq!(basic_timestamp(b"20261201T000005Z"), Some(NOW + 5));
        assert_eq!(iso_8601(b"soon"), None);
        assert_eq!(basic_timestamp(b"2026-12-01"), None);
    }

    #[test]
    fn a_sas_past_its_expiry_has_expired() {
        let sig = "aBcD1234efGH5678ijKL9012mnOP3456qrST7890uvW%3D";
        let line = format!("url = \"https://acct.blob.core.windows.net/c/f?sv=2021-06-08&sp=r&se=2023-12-20T22:54:52Z&sr=b&sig={sig}\"");
        assert!(expired(&line, sig));
        // Percent-escaped, HTML-escaped separators, and a bare token.
        let line =
            format!("* `sp=r&amp;se=2023-12-20T22%3A54%3A52Z&amp;sv=2021-06-08&amp;sig={sig}`");
        assert!(expired(&line, sig));
        let line = format!("SAS_TOKEN=sv=2021-06-08&se=2024-01-01&sig={sig}");
        assert!(expired(&line, sig));
    }

    #[test]
    fn a_sas_still_valid_or_without_expiry_has_not_expired() {
        let sig = "aBcD1234efGH5678ijKL9012mnOP3456qrST7890uvW%3D";
        let future = format!("?sv=2022-11-02&se=2030-01-01T00:00:00Z&sig={sig}");
        assert!(!expired(&future, sig));
        let no_expiry = format!("?sv=2022-11-02&sp=r&sig={sig}");
        assert!(!expired(&no_expiry, sig));
        let unreadable = format!("?sv=2022-11-02&se=tomorrow&sig={sig}");
        assert!(!expired(&unreadable, sig));
        // The expiry of another URL on the line does not count.
        let two = format!("old=?se=2020-01-01&sig=x&a=b new=?sv=2022-11-02&sp=r&sig={sig}");
        assert!(!expired(&two, sig));
    }

    #[test]
    fn a_presigned_s3_url_past_its_lifetime_has_expired() {
        let id = &["AKIA", "ABCDEFGHIJKLMNOP"].concat();
        let url = format!("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20190814T220617Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential={id}%2F20190814%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Signature=9161abcd");
        assert!(expired(&url, id));
        let live = url.replace("20190814T220617Z", "20270101T000000Z");
        assert!(!expired(&live, id));
        // A date with no lifetime is no expiry.
        let open = url.replace("&X-Amz-Expires=3600", "");
        assert!(!expired(&open, id));
        let gcs = format!("https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential={id}&X-Goog-Date=20200101T000000Z&X-Goog-Expires=900&X-Goog-Signature=ab12");
        assert!(expired(&gcs, id));
    }

    #[test]
    fn a_query_signature_with_unix_expiry_has_expired_when_past() {
        let id = &["AKIA", "ABCDEFGHIJKLMNOP"].concat();
        let old = format!(
            "https://b.s3.amazonaws.com/k?AWSAccessKeyId={id}&Expires=1357034400&Signature=abcd%3D"
        );
        assert!(expired(&old, id));
        let live = old.replace("1357034400", "4102444800");
        assert!(!expired(&live, id));
        // A relative count is not a date.
        let relative = old.replace("1357034400", "3600");
        assert!(!expired(&relative, id));
    }

    #[test]
    fn an_expiry_without_a_signature_is_not_a_signed_url() {
        let id = &["AKIA", "ABCDEFGHIJKLMNOP"].concat();
        let line = format!("https://example.org/?key={id}&expires=1357034400&se=2020-01-01");
        assert!(!expired(&line, id));
        // Nor is a value outside any query.
        assert!(!expired(&format!("aws_access_key_id = {id}"), id));
    }
}
