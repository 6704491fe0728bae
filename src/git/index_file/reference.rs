//! The index parser as it was before its entry loop was rewritten for
//! speed (57bf5af), kept unchanged as the tests' oracle: the parser in use
//! must accept what this accepts, refuse what this refuses, and read the
//! same entries and cache-tree from every index the tests make (valid,
//! unsorted, corrupted). Test-only code.

use std::ops::Range;

// The format's constants and the byte reader are the parser's own: they
// were not rewritten, and the oracle checks what was.
use super::{
    find_near, Reader, Unsupported, EXTENDED_INTENT_TO_ADD, FIXED_LEN, FLAG_EXTENDED,
    FLAG_NAME_MASK, FLAG_NAME_MASK_USIZE, FLAG_STAGE_MASK, MODE_OFFSET, OID_LEN, SIZE_OFFSET,
    STAT_LEN,
};

/// One stage-0 entry of the index: where its parts lie, not copies of
/// them (a 30,000-entry index is then parsed without copying its 3 MB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Offset of the entry's fixed part (stat data, id, flags) in the file.
    fixed: u32,
    /// The full path (from the repository root, `/`-separated, as stored):
    /// a range of the file, or of `IndexFile::v4_paths` for version 4.
    path_start: u32,
    path_len: u32,
}

/// The cache-tree: for each folder the index has not changed since its
/// tree was last written, that tree's id. Folders are stored flat, with
/// names and ids left in the file.
#[derive(Debug, Default)]
pub struct CacheTree {
    folders: Vec<CacheFolder>,
    /// Each folder's subfolders, as indexes into `folders`, one run per
    /// folder, in git's order (by name length, then name).
    children: Vec<u32>,
}

#[derive(Debug, Clone)]
struct CacheFolder {
    /// Name (one path component; empty for the root) in the extension.
    name: Range<u32>,
    /// Where the tree id is, or `None` when the folder changed since
    /// (git's entry count -1).
    id: Option<u32>,
    entry_count: u32,
    children: Range<u32>,
}

/// A folder of the cache-tree.
#[derive(Clone, Copy)]
pub struct CacheNode<'t> {
    tree: &'t CacheTree,
    body: &'t [u8],
    folder: usize,
}

impl<'t> CacheNode<'t> {
    fn get(&self) -> &'t CacheFolder {
        &self.tree.folders[self.folder]
    }

    fn name(&self) -> &'t [u8] {
        let range = &self.get().name;
        &self.body[range.start as usize..range.end as usize]
    }

    /// The folder's tree id, if the index has not changed it since.
    pub fn id(&self) -> Option<&'t [u8]> {
        let at = self.get().id? as usize;
        Some(&self.body[at..at + OID_LEN])
    }

    /// How many index entries the folder holds (when `id` is known).
    pub fn entry_count(&self) -> usize {
        self.get().entry_count as usize
    }

    /// The subfolder called `name`.
    pub fn child(&self, name: &[u8]) -> Option<CacheNode<'t>> {
        let range = &self.get().children;
        let children = &self.tree.children[range.start as usize..range.end as usize];
        let found = children.binary_search_by(|&child| {
            let child = CacheNode {
                folder: child as usize,
                ..*self
            };
            let child_name = child.name();
            (child_name.len(), child_name).cmp(&(name.len(), name))
        });
        found.ok().map(|i| CacheNode {
            folder: children[i] as usize,
            ..*self
        })
    }
}

/// The parts of an index file that a comparison with HEAD needs.
#[derive(Debug)]
pub struct IndexFile<'a> {
    data: &'a [u8],
    /// Stage-0 entries in index order (sorted by path bytes). Entries
    /// marked intent-to-add (`git add -N`) are left out: a commit does not
    /// include them.
    pub entries: Vec<Entry>,
    /// Version 4 compresses each path against the previous one: the full
    /// paths are rebuilt here, one buffer for all.
    v4_paths: Option<Vec<u8>>,
    /// Whether any intent-to-add entry was left out (their folders' entry
    /// counts then differ from `entries`).
    pub had_intent_to_add: bool,
    cache_tree: Option<(CacheTree, Range<usize>)>,
}

impl IndexFile<'_> {
    /// The root of the cache-tree, if the index has one.
    pub fn cache_tree(&self) -> Option<CacheNode<'_>> {
        let (tree, body) = self.cache_tree.as_ref()?;
        Some(CacheNode {
            tree,
            body: &self.data[body.clone()],
            folder: 0,
        })
    }

    pub fn path(&self, entry: &Entry) -> &[u8] {
        let range = entry.path_start as usize..(entry.path_start + entry.path_len) as usize;
        match &self.v4_paths {
            Some(paths) => &paths[range],
            None => &self.data[range],
        }
    }

    /// The entry's mode: 0o100644, 0o100755, 0o120000 (symlink) or
    /// 0o160000 (submodule).
    pub fn mode(&self, entry: &Entry) -> u32 {
        let at = entry.fixed as usize + MODE_OFFSET;
        u32::from_be_bytes(self.data[at..at + 4].try_into().unwrap())
    }

    /// The file's size when it was staged, as git recorded it (truncated
    /// to 32 bits; the size of the working-tree file before any filter).
    pub fn size(&self, entry: &Entry) -> u32 {
        let at = entry.fixed as usize + SIZE_OFFSET;
        u32::from_be_bytes(self.data[at..at + 4].try_into().unwrap())
    }

    pub fn id(&self, entry: &Entry) -> [u8; OID_LEN] {
        let at = entry.fixed as usize + STAT_LEN;
        self.data[at..at + OID_LEN].try_into().unwrap()
    }
}

/// Parses an index file. Never panics on any input.
pub fn parse(data: &[u8]) -> Result<IndexFile<'_>, Unsupported> {
    // Offsets are stored as u32; git's own index is limited to 4 GB too.
    if data.len() > u32::MAX as usize {
        return Err(Unsupported("index larger than 4 GB"));
    }
    let mut reader = Reader { data, pos: 0 };
    if reader.take(4)? != b"DIRC" {
        return Err(Unsupported("not an index file"));
    }
    let version = reader.u32()?;
    if !(2..=4).contains(&version) {
        return Err(Unsupported("unknown index version"));
    }
    let count = reader.u32()? as usize;
    // Each entry takes at least the fixed part plus a one-byte terminator.
    if count > data.len() / (FIXED_LEN + 1) {
        return Err(Unsupported("entry count larger than the file"));
    }
    let mut entries = Vec::with_capacity(count);
    let mut v4_paths = (version == 4).then(Vec::new);
    let mut had_intent_to_add = false;
    // The previous entry's path: entries must be sorted, and version 4
    // paths are relative to it.
    let mut previous: Range<usize> = 0..0;
    for _ in 0..count {
        let fixed_start = reader.pos;
        let fixed = reader.take(FIXED_LEN)?;
        let mode = u32::from_be_bytes(fixed[MODE_OFFSET..MODE_OFFSET + 4].try_into().unwrap());
        let flags = u16::from_be_bytes([fixed[FIXED_LEN - 2], fixed[FIXED_LEN - 1]]);
        let mut extended = 0u16;
        if flags & FLAG_EXTENDED != 0 {
            if version < 3 {
                return Err(Unsupported("extended flags in a version 2 index"));
            }
            extended = reader.u16()?;
        }
        let path = match &mut v4_paths {
            Some(paths) => {
                let strip = reader.varint()?;
                if strip > previous.len() {
                    return Err(Unsupported("bad path compression"));
                }
                let suffix = reader.c_string()?;
                let start = paths.len();
                paths.extend_from_within(previous.start..previous.end - strip);
                paths.extend_from_slice(suffix);
                if paths.len() > u32::MAX as usize {
                    return Err(Unsupported("index paths larger than 4 GB"));
                }
                let path = start..paths.len();
                if paths[path.clone()] <= paths[previous.clone()] {
                    return Err(Unsupported("entries out of order or in conflict"));
                }
                path
            }
            None => {
                let start = reader.pos;
                // The flags hold the name's length when it is below 0xFFF,
                // which spares a search for its end.
                let len = match (flags & FLAG_NAME_MASK) as usize {
                    FLAG_NAME_MASK_USIZE => reader.c_string()?.len(),
                    len if reader.data.get(start + len) == Some(&0) => {
                        reader.pos += len + 1;
                        len
                    }
                    _ => return Err(Unsupported("name length does not match")),
                };
                // Entries are padded with 1 to 8 NULs to a multiple of 8
                // bytes; `c_string` consumed the first.
                let unpadded = reader.pos - fixed_start;
                let padded = (unpadded + 7) & !7;
                reader.take(padded - unpadded)?;
                let path = start..start + len;
                if data[path.clone()] <= data[previous.clone()] {
                    return Err(Unsupported("entries out of order or in conflict"));
                }
                path
            }
        };
        if path.is_empty() {
            return Err(Unsupported("an entry without a path"));
        }
        if flags & FLAG_STAGE_MASK != 0 {
            return Err(Unsupported("conflict stages"));
        }
        if mode == 0o040000 {
            return Err(Unsupported("sparse index folder entries"));
        }
        if extended & EXTENDED_INTENT_TO_ADD != 0 {
            had_intent_to_add = true;
        } else {
            entries.push(Entry {
                fixed: fixed_start as u32,
                path_start: path.start as u32,
                path_len: path.len() as u32,
            });
        }
        previous = path;
    }

    let mut cache_tree = None;
    let extensions_end = data
        .len()
        .checked_sub(OID_LEN)
        .ok_or(Unsupported("truncated index"))?;
    while reader.pos < extensions_end {
        let signature = reader.take(4)?;
        let size = reader.u32()? as usize;
        if size > extensions_end.saturating_sub(reader.pos) {
            return Err(Unsupported("extension larger than the file"));
        }
        let body_start = reader.pos;
        let body = reader.take(size)?;
        match signature {
            b"TREE" => {
                cache_tree = Some((parse_cache_tree(body)?, body_start..body_start + size));
            }
            // Optional extensions (upper-case first letter) do not change
            // what the index holds; a required one we do not know might.
            [b'A'..=b'Z', ..] => {}
            _ => {
                return Err(Unsupported(
                    "a required index extension (split or sparse index)",
                ))
            }
        }
    }
    if reader.pos != extensions_end {
        return Err(Unsupported("truncated index"));
    }
    Ok(IndexFile {
        data,
        entries,
        v4_paths,
        had_intent_to_add,
        cache_tree,
    })
}

/// The `TREE` extension: folders in pre-order, each
/// `name NUL entry-count SP subtree-count LF [id if entry-count >= 0]`.
fn parse_cache_tree(body: &[u8]) -> Result<CacheTree, Unsupported> {
    let mut reader = Reader { data: body, pos: 0 };
    // A folder takes at least 24 bytes (`name NUL count SP count LF id`):
    // reserved once rather than grown (and copied) folder by folder.
    let mut tree = CacheTree {
        folders: Vec::with_capacity(body.len() / 24),
        children: Vec::with_capacity(body.len() / 24),
    };
    parse_cache_folder(&mut reader, &mut tree, &mut Vec::new(), 0)?;
    if reader.pos != body.len() {
        return Err(Unsupported("trailing bytes in the cache-tree"));
    }
    Ok(tree)
}

/// Parses one folder and its subfolders; returns the folder's index.
fn parse_cache_folder(
    reader: &mut Reader<'_>,
    tree: &mut CacheTree,
    scratch: &mut Vec<u32>,
    depth: usize,
) -> Result<u32, Unsupported> {
    // Paths are at most 4096 bytes in practice; this also bounds recursion.
    if depth > 2048 {
        return Err(Unsupported("cache-tree too deep"));
    }
    let name_start = reader.pos as u32;
    let name_end = name_start + reader.c_string()?.len() as u32;
    let entry_count = reader.decimal(b' ')?;
    let subtrees = reader.decimal(b'\n')?;
    let id = match entry_count {
        -1 => None,
        0.. => {
            let at = reader.pos as u32;
            reader.take(OID_LEN)?;
            Some(at)
        }
        _ => return Err(Unsupported("bad cache-tree")),
    };
    let subtrees = usize::try_from(subtrees).map_err(|_| Unsupported("bad cache-tree"))?;
    if subtrees > reader.remaining() {
        return Err(Unsupported("bad cache-tree"));
    }
    let index = tree.folders.len();
    tree.folders.push(CacheFolder {
        name: name_start..name_end,
        id,
        entry_count: entry_count.max(0) as u32,
        children: 0..0,
    });
    // The subfolders' indexes wait on one shared stack (deeper calls push
    // and take back above this call's mark): no vector per folder.
    let mark = scratch.len();
    for _ in 0..subtrees {
        let child = parse_cache_folder(reader, tree, scratch, depth + 1)?;
        scratch.push(child);
    }
    let start = tree.children.len() as u32;
    tree.children.extend(scratch.drain(mark..));
    tree.folders[index].children = start..tree.children.len() as u32;
    Ok(index as u32)
}

impl Reader<'_> {
    /// An ASCII decimal (optionally negative) ended by `end`.
    fn decimal(&mut self, end: u8) -> Result<i64, Unsupported> {
        let rest = &self.data[self.pos..];
        let len = find_near(end, rest).ok_or(Unsupported("bad cache-tree"))?;
        let (negative, digits) = match &rest[..len] {
            [b'-', digits @ ..] => (true, digits),
            digits => (false, digits),
        };
        if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(Unsupported("bad cache-tree"));
        }
        let value = digits
            .iter()
            .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
        self.pos += len + 1;
        Ok(if negative { -value } else { value })
    }
}

/// Everything a parse gives, owned and in one comparable shape.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    /// (path, mode, size, id) of each kept entry, in index order.
    pub entries: Vec<(Vec<u8>, u32, u32, [u8; OID_LEN])>,
    pub had_intent_to_add: bool,
    /// The cache-tree in pre-order: (depth, name, id, entry count, the
    /// subfolders in their stored order).
    pub cache_tree: Option<Vec<Folder>>,
}

/// One folder of [`Parsed::cache_tree`]; with each subfolder's name, the
/// folder `child` finds by that name (names need not be unique or in
/// git's order in a corrupt file).
pub type Folder = (
    usize,
    Vec<u8>,
    Option<Vec<u8>>,
    usize,
    Vec<(Vec<u8>, Option<usize>)>,
);

/// What this parser reads from `data`, or that it refuses it.
pub fn parsed(data: &[u8]) -> Result<Parsed, Unsupported> {
    let index = parse(data)?;
    let cache_tree = index.cache_tree().map(|root| {
        let mut out = Vec::new();
        flatten(root, 0, &mut out);
        out
    });
    Ok(Parsed {
        entries: index
            .entries
            .iter()
            .map(|e| {
                (
                    index.path(e).to_vec(),
                    index.mode(e),
                    index.size(e),
                    index.id(e),
                )
            })
            .collect(),
        had_intent_to_add: index.had_intent_to_add,
        cache_tree,
    })
}

fn flatten(node: CacheNode<'_>, depth: usize, out: &mut Vec<Folder>) {
    let range = node.get().children.clone();
    let children = &node.tree.children[range.start as usize..range.end as usize];
    let nodes: Vec<CacheNode<'_>> = children
        .iter()
        .map(|&folder| CacheNode {
            folder: folder as usize,
            ..node
        })
        .collect();
    out.push((
        depth,
        node.name().to_vec(),
        node.id().map(<[u8]>::to_vec),
        node.entry_count(),
        nodes
            .iter()
            .map(|n| (n.name().to_vec(), node.child(n.name()).map(|c| c.folder)))
            .collect(),
    ));
    for child in nodes {
        flatten(child, depth + 1, out);
    }
}
