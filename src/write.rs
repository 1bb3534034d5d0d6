//! Writing files so that a crash or a kill never leaves half of one.

use std::path::Path;

/// Writes `text` to `path` atomically: a temporary file in the same folder,
/// then a rename (`replace`) or a hard link that fails when the file exists
/// (`!replace`). A crash leaves either the old file or the new one, never
/// half of one.
pub fn write_atomically(path: &Path, text: &str, replace: bool) -> std::io::Result<()> {
    write_via_temp(path, text.as_bytes(), replace, true)
}

/// Replaces `path` with `bytes` through a temporary file and a rename, not
/// waiting for the disk: for files that can be rebuilt (the cache), where a
/// crash may lose the new content but never leaves half of it.
pub fn replace_quickly(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, bytes, true, false)
}

fn write_via_temp(path: &Path, bytes: &[u8], replace: bool, durable: bool) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.miglint-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        if replace {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path)
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_never_replace_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.py");
        write_atomically(&p, "one", false).unwrap();
        assert!(write_atomically(&p, "two", false).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "one");
        write_atomically(&p, "three", true).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "three");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
