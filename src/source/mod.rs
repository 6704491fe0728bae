//! The scanner's inputs. Whatever a scan reads (the staged change, a
//! commit, files on disk), the scanner sees only [`Chunk`]s: text, where
//! it is, and the line it starts at.

pub mod disk;

use crate::finding::Origin;

/// A run of text to scan: all the scanner sees.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// How reports name the file.
    pub path: &'a str,
    pub origin: &'a Origin,
    /// The line number of the first line of `text`.
    pub first_line: u32,
    pub text: &'a str,
    /// Bytes at the start of `text` that the file's previous chunk ended
    /// with (see `disk::LargeFiles::overlap`): read again for context, and
    /// counted in the stats once.
    pub repeated: usize,
}
