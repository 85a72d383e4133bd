//! `--watch-config`: noticing that a file changed, by polling, without a dependency.
//!
//! Kubernetes updates a mounted ConfigMap by writing a new directory and swapping the `..data`
//! symlink to it, so the file's own path never sees a write: what changes is where the path
//! resolves to. Each poll therefore takes the file's [`Fingerprint`], its path with every symlink
//! resolved and the identity, size and modification time of what it resolves to, and reports a
//! change when the fingerprint differs from the last one seen. An editor that saves by renaming
//! gives a new inode, one that writes in place a new modification time. Nothing is read but
//! metadata, so a big config costs nothing per poll.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How often `--watch-config` looks at the file: a change takes effect within about this long,
/// and a poll costs two system calls.
pub const POLL: Duration = Duration::from_secs(1);

/// What a poll compares: where the path leads, and what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    resolved: PathBuf,
    device: u64,
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Fingerprint {
    /// The fingerprint of the file at `path` now, or `None` while it cannot be read (during a
    /// swap, or deleted).
    pub fn of(path: &Path) -> Option<Fingerprint> {
        use std::os::unix::fs::MetadataExt;
        let resolved = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&resolved).ok()?;
        Some(Fingerprint {
            resolved,
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// Starts a thread that polls `path` every `every` and calls `changed` after each change it
/// notices since `seen`, the fingerprint taken before the config was loaded (so that a change
/// while the exporter starts is not missed). A file that disappears is waited for; when it comes
/// back different, that is a change.
pub fn spawn(
    path: PathBuf,
    seen: Option<Fingerprint>,
    every: Duration,
    changed: impl Fn() + Send + 'static,
) -> std::io::Result<()> {
    let mut last = seen;
    std::thread::Builder::new().name("watch-config".into()).spawn(move || loop {
        std::thread::sleep(every);
        let now = Fingerprint::of(&path);
        if now.is_some() && now != last {
            log::info!("config file {} changed, reloading", path.display());
            changed();
        }
        if now.is_some() {
            last = now;
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_swap_and_a_rewrite_change_the_fingerprint() {
        let dir = std::env::temp_dir().join(format!("metrics-generator-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::create_dir_all(dir.join("b")).unwrap();
        std::fs::write(dir.join("a/config.json"), "[1]").unwrap();
        std::fs::write(dir.join("b/config.json"), "[1]").unwrap();
        std::os::unix::fs::symlink("a", dir.join("data")).unwrap();
        std::os::unix::fs::symlink("data/config.json", dir.join("config.json")).unwrap();
        let path = dir.join("config.json");
        let first = Fingerprint::of(&path).unwrap();
        assert_eq!(Fingerprint::of(&path), Some(first.clone()), "nothing changed");
        // The swap a kubelet makes: a new link renamed over the old one.
        std::os::unix::fs::symlink("b", dir.join("data.new")).unwrap();
        std::fs::rename(dir.join("data.new"), dir.join("data")).unwrap();
        let swapped = Fingerprint::of(&path).unwrap();
        assert_ne!(swapped, first);
        std::fs::write(dir.join("b/config.json"), "[1, 2]").unwrap();
        assert_ne!(Fingerprint::of(&path).unwrap(), swapped);
        std::fs::remove_file(dir.join("b/config.json")).unwrap();
        assert_eq!(Fingerprint::of(&path), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
