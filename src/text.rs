//! Turning raw bytes (a blob or a file) into text the detector can match.
//!
//! Keys are ASCII, but the files they hide in are not always UTF-8: Windows
//! tools write UTF-16 with a BOM, old editors write Latin-1. Everything is
//! decoded to UTF-8 first so that one set of regexes serves every encoding
//! and columns are counted in characters.

use std::borrow::Cow;

/// How many leading bytes are examined for a NUL, as git itself does.
const BINARY_SNIFF_LEN: usize = 8000;

/// What a buffer turned out to be.
#[derive(Debug)]
pub enum Decoded<'a> {
    Text(Cow<'a, str>),
    Binary,
}

/// True when the buffer starts with a UTF-16 byte-order mark.
fn utf16_bom(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(true), // little endian
        [0xFE, 0xFF, ..] => Some(false),
        _ => None,
    }
}

/// Is this a binary blob? A NUL byte in the first 8000 bytes means binary,
/// except in UTF-16 text, where NULs are half of every ASCII character.
pub fn is_binary(bytes: &[u8]) -> bool {
    if utf16_bom(bytes).is_some() {
        return false;
    }
    let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_LEN)];
    memchr::memchr(0, sniff).is_some()
}

/// Decodes UTF-8 (with or without BOM), UTF-16 with BOM, and falls back to
/// Latin-1 for anything else, which maps every byte to one character and so
/// never fails. Binary buffers are reported as such and not decoded.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    if let Some(little_endian) = utf16_bom(bytes) {
        return Decoded::Text(Cow::Owned(decode_utf16(&bytes[2..], little_endian)));
    }
    if is_binary(bytes) {
        return Decoded::Binary;
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Decoded::Text(Cow::Borrowed(text)),
        Err(_) => Decoded::Text(Cow::Owned(bytes.iter().map(|&b| b as char).collect())),
    }
}

/// Like [`decode`], but takes ownership, so that the common case (UTF-8)
/// reuses the buffer instead of copying it: staged files can be large.
/// `None` means binary.
pub fn decode_owned(mut bytes: Vec<u8>) -> Option<String> {
    if utf16_bom(&bytes).is_none() && is_binary(&bytes) {
        return None;
    }
    if utf16_bom(&bytes).is_none() {
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        return Some(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
        });
    }
    match decode(&bytes) {
        Decoded::Text(text) => Some(text.into_owned()),
        Decoded::Binary => None,
    }
}

fn decode_utf16(body: &[u8], little_endian: bool) -> String {
    let units = body.chunks_exact(2).map(|pair| {
        if little_endian {
            u16::from_le_bytes([pair[0], pair[1]])
        } else {
            u16::from_be_bytes([pair[0], pair[1]])
        }
    });
    char::decode_utf16(units)
        .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Like [`decode_owned`], for a later block of a file already judged text
/// by its start: NUL bytes do not make it binary, so that no part of a text
/// file is skipped because of what it holds (a block of NULs, an embedded
/// blob). UTF-8 where it is valid, else Latin-1.
pub fn decode_text_owned(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    }
}

/// Control characters as C escapes (`\n`, `\t`, `\r`, `\x1b`), everything else
/// unchanged: the one escaping used for text from a repository (file names,
/// rule descriptions, refs) in every message, so that such text cannot move
/// the cursor, recolour the terminal or forge a line of output.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut escaped, c);
    }
    Cow::Owned(escaped)
}

/// An error message for the terminal: each line with its control
/// characters escaped (see [`escape_control`]), continuation lines indented,
/// so that no text from a repository quoted in it can start a line of its
/// own (some messages, such as a regex's, span lines).
pub fn escape_message(message: &str) -> String {
    let lines: Vec<Cow<'_, str>> = message.lines().map(escape_control).collect();
    lines.join("\n  ")
}

/// A name (a path, a ref), unchanged unless it holds a control character;
/// then in double quotes with C escapes, as git writes such names.
pub fn quote_name(name: &str) -> Cow<'_, str> {
    if !name.chars().any(needs_escape) {
        return Cow::Borrowed(name);
    }
    let mut quoted = String::from("\"");
    for c in name.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c => push_escaped(&mut quoted, c),
        }
    }
    quoted.push('"');
    Cow::Owned(quoted)
}

/// Control characters, and the bidirectional overrides that can make a
/// line display in another order than it reads.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    }
}

/// 1-based column, in characters, of a byte offset within a line.
pub fn column_of(line: &str, byte_offset: usize) -> usize {
    line[..byte_offset].chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        match decode(bytes) {
            Decoded::Text(t) => t.into_owned(),
            Decoded::Binary => panic!("decoded as binary"),
        }
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(text(b"abc"), "abc");
        assert_eq!(text(b"\xEF\xBB\xBFabc"), "abc");
    }

    #[test]
    fn utf16_both_endians() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("ké=1\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("ké=1\n".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(text(&le), "ké=1\n");
        assert_eq!(text(&be), "ké=1\n");
        assert!(!is_binary(&le));
    }

    #[test]
    fn owned_decoding_agrees_with_borrowed() {
        for bytes in [&b"abc"[..], b"\xEF\xBB\xBFabc", b"caf\xE9", b"\xFF\xFEa\0"] {
            assert_eq!(decode_owned(bytes.to_vec()).unwrap(), text(bytes));
        }
        assert_eq!(decode_owned(b"a\0b".to_vec()), None);
    }

    #[test]
    fn latin1_falls_back_per_byte() {
        assert_eq!(text(b"caf\xE9 = 1"), "café = 1");
    }

    #[test]
    fn nul_means_binary() {
        assert!(matches!(decode(b"\x89PNG\r\n\x1a\n\0\0"), Decoded::Binary));
        assert!(is_binary(b"a\0b"));
        assert!(!is_binary(b"plain text"));
    }

    #[test]
    fn control_characters_are_escaped_and_names_quoted() {
        assert_eq!(escape_control("plain"), "plain");
        assert_eq!(escape_control("a\x1b[31mb\nc"), "a\\x1b[31mb\\nc");
        assert_eq!(quote_name("a b.py"), "a b.py");
        assert_eq!(quote_name("x\ny\".py"), "\"x\\ny\\\".py\"");
        assert_eq!(escape_control("\u{85}"), "\\x85");
        assert_eq!(escape_control("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(
            escape_message("a\x1b\nkeyguard: b\r"),
            "a\\x1b\n  keyguard: b\\r"
        );
    }

    #[test]
    fn later_blocks_of_text_stay_text_whatever_they_hold() {
        assert_eq!(decode_text_owned(b"\0k=v\n".to_vec()), "\0k=v\n");
        assert_eq!(decode_text_owned(b"caf\xE9".to_vec()), "café");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(column_of("é = x", 5), 5);
        assert_eq!(column_of("abc", 0), 1);
    }
}
