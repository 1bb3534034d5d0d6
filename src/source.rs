//! Source files as miglint reads them, and positions inside them.
//!
//! Every span in the model is a byte range into one [`SourceFile`], named by
//! its [`FileId`]. The text kept here is exactly the text that was parsed, so
//! spans, snippets and line numbers always agree.

use std::path::{Path, PathBuf};

/// Index of a file in the run's [`SourceDb`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// One file's text, decoded, with the problems met while decoding it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user should see it (relative to the working directory).
    pub display_path: String,
    pub path: PathBuf,
    pub text: String,
    /// Computed the first time a line is asked for: most files of a large
    /// project never are (50,000 of these lists were 7 MB).
    line_starts: std::sync::OnceLock<Vec<u32>>,
    /// Set when the bytes were not clean UTF-8: byte offset in `text` and a message.
    pub decode_problem: Option<(usize, String)>,
}

impl SourceFile {
    /// Decodes raw bytes: strips a UTF-8 byte order mark, replaces invalid
    /// UTF-8 (and records where the first invalid byte was), refuses UTF-16.
    pub fn from_bytes(path: &Path, display_path: String, bytes: &[u8]) -> Self {
        Self::decode(path, display_path, bytes)
    }

    /// [`SourceFile::from_bytes`] taking the bytes: clean UTF-8 without a
    /// byte order mark (nearly every file) becomes the text in place, so a
    /// large project is never held twice, as bytes and as text.
    pub fn from_vec(path: &Path, display_path: String, bytes: Vec<u8>) -> Self {
        let clean = !bytes.starts_with(b"\xEF\xBB\xBF")
            && !bytes.starts_with(b"\xFF\xFE")
            && !bytes.starts_with(b"\xFE\xFF")
            && !bytes.iter().take(8192).any(|&b| b == 0);
        if clean {
            match String::from_utf8(bytes) {
                Ok(text) => return Self::new(path.to_path_buf(), display_path, text, None),
                Err(e) => return Self::decode(path, display_path, e.as_bytes()),
            }
        }
        Self::decode(path, display_path, &bytes)
    }

    fn decode(path: &Path, display_path: String, bytes: &[u8]) -> Self {
        let mut decode_problem = None;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // A NUL byte in the first 8 KiB means binary, as git decides it.
        let nul = bytes.iter().take(8192).position(|&b| b == 0);
        let text = if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
            decode_problem = Some((
                0,
                "file is UTF-16 encoded; migrations must be UTF-8".to_string(),
            ));
            String::new()
        } else if let Some(at) = nul {
            decode_problem = Some((
                0,
                format!(
                    "file looks binary (NUL byte at offset {at}); it was not read as a migration"
                ),
            ));
            String::new()
        } else {
            match std::str::from_utf8(bytes) {
                Ok(s) => s.to_string(),
                Err(e) => {
                    let valid = e.valid_up_to();
                    decode_problem = Some((
                        valid,
                        format!(
                            "file is not valid UTF-8 (byte 0x{:02X} at offset {valid}); invalid bytes were replaced",
                            bytes[valid]
                        ),
                    ));
                    String::from_utf8_lossy(bytes).into_owned()
                }
            }
        };
        Self::new(path.to_path_buf(), display_path, text, decode_problem)
    }

    pub fn new(
        path: PathBuf,
        display_path: String,
        text: String,
        decode_problem: Option<(usize, String)>,
    ) -> Self {
        SourceFile {
            display_path,
            path,
            text,
            line_starts: std::sync::OnceLock::new(),
            decode_problem,
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts().binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Byte offset where 0-based line `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts()
            .get(line)
            .map(|&s| s as usize)
            .unwrap_or(self.text.len())
    }

    /// Byte offset just past the end of 0-based line `line`, line break excluded.
    /// `span` cut at the end of its first line: long calls and statements
    /// are underlined (or pointed at) where they start.
    pub fn first_line(&self, span: Span) -> Span {
        let line = self.line_index(span.start as usize);
        let end = self.line_end(line).max(span.start as usize);
        Span::new(span.file, span.start as usize, (span.end as usize).min(end))
    }

    pub fn line_end(&self, line: usize) -> usize {
        let next = self.line_start(line + 1);
        let bytes = self.text.as_bytes();
        let mut end = next;
        while end > self.line_start(line) && matches!(bytes[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        end
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.floor_char_boundary(offset.min(self.text.len()));
        let line = self.line_index(offset);
        let start = self.line_start(line);
        let column = self.text[start..offset].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    pub fn floor_char_boundary(&self, mut offset: usize) -> usize {
        offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The text of a span, clamped to the file.
    pub fn slice(&self, span: Span) -> &str {
        let start = self.floor_char_boundary(span.start as usize);
        let end = self.floor_char_boundary(span.end as usize).max(start);
        &self.text[start..end]
    }
}

/// Line starts for `\n`, `\r\n` and lone `\r` line endings (Python accepts all three).
fn line_starts(text: &str) -> Vec<u32> {
    let mut starts = vec![0u32];
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i as u32 + 1),
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                starts.push(i as u32 + 1);
            }
            _ => {}
        }
        i += 1;
    }
    starts
}

/// Every file read in one run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    /// Makes room for `more` files at once (a large project's list of
    /// files would otherwise be copied each time it doubles).
    pub fn reserve(&mut self, more: usize) {
        self.files.reserve_exact(more);
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::from_bytes(Path::new("x"), "x".into(), text.as_bytes())
    }

    #[test]
    fn taking_the_bytes_decodes_as_borrowing_them() {
        let cases: [&[u8]; 7] = [
            b"plain\nsql;\n",
            b"\xEF\xBB\xBFwith a byte order mark",
            b"latin-1 caf\xE9",
            b"\xFF\xFEu\x00t\x00f\x00",
            b"binary\x00file",
            b"",
            b"crlf\r\nand cr\rend",
        ];
        for bytes in cases {
            let borrowed = SourceFile::from_bytes(Path::new("x"), "x".into(), bytes);
            let owned = SourceFile::from_vec(Path::new("x"), "x".into(), bytes.to_vec());
            assert_eq!(owned.text, borrowed.text, "{bytes:?}");
            assert_eq!(owned.decode_problem, borrowed.decode_problem, "{bytes:?}");
            assert_eq!(owned.line_count(), borrowed.line_count(), "{bytes:?}");
        }
    }

    #[test]
    fn line_col_handles_all_line_endings() {
        let f = file("a\r\nbc\rd\ne");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(4), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_col(6), LineCol { line: 3, column: 1 });
        assert_eq!(f.line_col(8), LineCol { line: 4, column: 1 });
        assert_eq!(f.line_end(0), 1);
    }

    #[test]
    fn columns_count_characters() {
        let f = file("é = 'x'");
        assert_eq!(f.line_col(3), LineCol { line: 1, column: 3 });
    }

    #[test]
    fn binary_files_are_reported_not_parsed() {
        let f = SourceFile::from_bytes(Path::new("x"), "x".into(), b"SELECT 1;\0\x01\x02");
        assert!(f.text.is_empty());
        assert!(f.decode_problem.unwrap().1.contains("binary"));
    }

    #[test]
    fn bom_is_stripped_and_bad_utf8_reported() {
        let f = SourceFile::from_bytes(Path::new("x"), "x".into(), b"\xEF\xBB\xBFab");
        assert_eq!(f.text, "ab");
        assert!(f.decode_problem.is_none());
        let f = SourceFile::from_bytes(Path::new("x"), "x".into(), b"ab\xFFcd");
        assert_eq!(f.decode_problem.as_ref().unwrap().0, 2);
        assert!(f.text.starts_with("ab"));
        let f = SourceFile::from_bytes(Path::new("x"), "x".into(), b"\xFF\xFEa\0");
        assert!(f.decode_problem.unwrap().1.contains("UTF-16"));
    }
}
