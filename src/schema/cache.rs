//! Results kept on disk between runs, so that work whose inputs did not
//! change is not done again.
//!
//! The cache lives in `.miglint_cache/` at the project root (`--cache-dir`
//! or `MIGLINT_CACHE_DIR` elsewhere, `--no-cache` for none). Each entry is
//! keyed by a 128-bit hash of everything its result depends on, miglint's
//! and SQLite's versions included, so an entry is either exactly right or
//! never found. A file that cannot be read or does not decode is treated as
//! empty; a cache that cannot be written is left alone: the cache changes
//! how fast miglint is, never what it reports.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// Bumped whenever the layout of a cache file changes.
const FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"MIGLINTC";

/// A 128-bit key built from the bytes a result depends on.
pub struct Key {
    a: std::hash::DefaultHasher,
    b: std::hash::DefaultHasher,
}

impl Default for Key {
    fn default() -> Self {
        Self::new()
    }
}

impl Key {
    pub fn new() -> Key {
        let mut b = std::hash::DefaultHasher::new();
        // A second, differently started hash doubles the key's width.
        b.write(b"miglint second half");
        let mut key = Key {
            a: std::hash::DefaultHasher::new(),
            b,
        };
        key.str(env!("CARGO_PKG_VERSION"));
        key.str(rusqlite::version());
        key
    }

    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        bytes.len().hash(&mut self.a);
        bytes.len().hash(&mut self.b);
        self.a.write(bytes);
        self.b.write(bytes);
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    pub fn u32(&mut self, n: u32) -> &mut Self {
        self.bytes(&n.to_le_bytes())
    }

    pub fn finish(&self) -> u128 {
        (u128::from(self.a.finish()) << 64) | u128::from(self.b.finish())
    }
}

/// A key and the result stored under it.
pub type Entry = (u128, Vec<u8>);

/// One cache file: the entries one kind of result left last time.
pub struct Store {
    path: Option<PathBuf>,
    entries: HashMap<u128, Vec<u8>>,
}

impl Store {
    /// The entries of cache file `name` under `dir` (none when `dir` is
    /// `None`, the file is missing, or it does not decode).
    pub fn open(dir: Option<&Path>, name: &str) -> Store {
        let Some(dir) = dir else {
            return Store {
                path: None,
                entries: HashMap::new(),
            };
        };
        let path = dir.join(env!("CARGO_PKG_VERSION")).join(name);
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|bytes| decode(&bytes))
            .unwrap_or_default();
        Store {
            path: Some(path),
            entries,
        }
    }

    pub fn get(&self, key: u128) -> Option<&[u8]> {
        self.entries.get(&key).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Replaces the file with `entries` (this run's), when they differ from
    /// what it held: entries no run uses any more are dropped this way.
    pub fn save(&self, entries: &[Entry]) {
        let Some(path) = &self.path else { return };
        let same = entries.len() == self.entries.len()
            && entries
                .iter()
                .all(|(k, v)| self.entries.get(k).is_some_and(|old| old == v));
        if same {
            return;
        }
        if let Some(root) = path.parent().and_then(Path::parent) {
            prepare(root);
        }
        if let Some(parent) = path.parent()
            && std::fs::create_dir_all(parent).is_ok()
        {
            let _ = crate::write::replace_quickly(path, &encode(entries));
        }
    }
}

/// Creates the cache folder with what keeps it out of version control and
/// backups, as `.ruff_cache` and `target/` do.
fn prepare(root: &Path) {
    if root.join(".gitignore").is_file() {
        return;
    }
    if std::fs::create_dir_all(root).is_err() {
        return;
    }
    let _ = std::fs::write(
        root.join("CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n\
         # This file is a cache directory tag created by miglint.\n\
         # For information about cache directory tags see https://bford.info/cachedir/\n",
    );
    let _ = std::fs::write(
        root.join(".gitignore"),
        "# Automatically created by miglint.\n*\n",
    );
}

fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + entries.iter().map(|(_, v)| 20 + v.len()).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for (key, value) in entries {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
    }
    out
}

fn decode(bytes: &[u8]) -> Option<HashMap<u128, Vec<u8>>> {
    let mut r = Reader(bytes);
    if r.take(8)? != MAGIC || r.u32()? != FORMAT {
        return None;
    }
    let count = r.u32()? as usize;
    let mut entries = HashMap::with_capacity(count.min(bytes.len() / 20));
    for _ in 0..count {
        let key = u128::from_le_bytes(r.take(16)?.try_into().ok()?);
        let len = r.u32()? as usize;
        entries.insert(key, r.take(len)?.to_vec());
    }
    r.0.is_empty().then_some(entries)
}

/// Reads little-endian values off the front of a byte slice; `None` once
/// it runs short.
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    /// A string written as a `u32` length and its UTF-8 bytes.
    pub fn string(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

/// Appends a string as [`Reader::string`] reads it.
pub fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_round_trip_and_damage_empties_the_file() {
        let entries = vec![(1u128, b"one".to_vec()), (u128::MAX, Vec::new())];
        let bytes = encode(&entries);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[&1], b"one");
        assert_eq!(back[&u128::MAX], b"");
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut} decoded");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none());
        let mut other_format = bytes;
        other_format[8] ^= 1;
        assert!(decode(&other_format).is_none());
    }

    #[test]
    fn keys_separate_where_bytes_are_cut() {
        let ab = Key::new().str("ab").str("c").finish();
        let a_bc = Key::new().str("a").str("bc").finish();
        assert_ne!(ab, a_bc);
        assert_eq!(ab, Key::new().str("ab").str("c").finish());
    }

    #[test]
    fn saving_creates_a_self_ignoring_folder_and_drops_unused_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".miglint_cache");
        let store = Store::open(Some(&root), "exec");
        assert!(store.is_empty());
        store.save(&[(7, b"x".to_vec()), (8, b"y".to_vec())]);
        assert!(root.join(".gitignore").is_file());
        assert!(root.join("CACHEDIR.TAG").is_file());
        let store = Store::open(Some(&root), "exec");
        assert_eq!(store.get(7), Some(&b"x"[..]));
        store.save(&[(8, b"y".to_vec())]);
        let store = Store::open(Some(&root), "exec");
        assert_eq!(store.len(), 1);
        assert_eq!(store.get(7), None);
    }
}
