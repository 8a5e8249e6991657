//! Builds of Python and JavaScript projects, cached by what goes into them.
//!
//! A componentize-py or componentize-js build takes 10-20 s of every core,
//! so a project is built only when its sources, the SDK, the WIT contract
//! or the tool changed: the component is stored as
//! `TARGET/weft-build/KIND/NAME-WHERE-HASH.wasm`, where `WHERE` is a short
//! hash of the project's path, `HASH` a SHA-256 of all the inputs, and
//! `TARGET` is `$WEFT_TARGET_DIR`, else `$CARGO_TARGET_DIR`, else the
//! project's own `target/`. A lock file makes concurrent builds of the
//! same sources (e.g. several test processes) wait for one another instead
//! of building twice.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

/// Directory names never hashed: build outputs, dependencies, caches.
const SKIPPED_DIRS: &[&str] = &[
    "target",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "dist",
];

/// What goes into a build, hashed.
pub struct BuildInputs {
    hasher: Sha256,
}

impl BuildInputs {
    /// Starts the inputs of a build of `kind` ("python", "javascript").
    pub fn new(kind: &str) -> BuildInputs {
        let mut inputs = BuildInputs {
            hasher: Sha256::new(),
        };
        inputs.text("kind", kind);
        inputs
    }

    /// Adds a named piece of text (a tool's version, an option).
    pub fn text(&mut self, name: &str, value: &str) {
        self.field(name.as_bytes());
        self.field(value.as_bytes());
    }

    /// Adds every file under `dir` (recursively, in a stable order, skipping
    /// hidden entries, [`SKIPPED_DIRS`] and `.wasm`/`.pyc` files), named by
    /// `label` and its path relative to `dir`.
    pub fn tree(&mut self, label: &str, dir: &Path) -> anyhow::Result<()> {
        let mut files = Vec::new();
        collect(dir, dir, &mut files)?;
        files.sort();
        for rel in files {
            let path = dir.join(&rel);
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            self.field(format!("{label}/{}", rel.display()).as_bytes());
            self.field(&bytes);
        }
        Ok(())
    }

    /// Adds one file's contents, if it exists.
    pub fn file(&mut self, label: &str, path: &Path) -> anyhow::Result<()> {
        if path.is_file() {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            self.field(label.as_bytes());
            self.field(&bytes);
        }
        Ok(())
    }

    fn field(&mut self, bytes: &[u8]) {
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    /// The hash, hex (the first 16 digits name the component).
    pub fn finish(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) {
                collect(root, &path, out)?;
            }
        } else if kind.is_file() && !name.ends_with(".wasm") && !name.ends_with(".pyc") {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

/// Where the builds of `kind` ("python", "javascript") of the project in
/// `dir` go.
pub fn output_dir(dir: &Path, kind: &str) -> PathBuf {
    let target = std::env::var_os("WEFT_TARGET_DIR")
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR"))
        .filter(|t| !t.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    target.join("weft-build").join(kind)
}

/// A file-system name for the project in `dir` (an absolute path): its
/// directory's name and a short hash of its path, so two projects of the
/// same name do not replace each other's builds.
pub fn project_name(dir: &Path) -> String {
    let base: String = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "flow".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut where_ = BuildInputs::new("path");
    where_.text("dir", &dir.to_string_lossy());
    format!("{base}-{}", &where_.finish()[..8])
}

/// The component of `name` built from inputs hashing to `hash` in
/// `out_dir`: the cached one, or a new one made by `build` (which writes
/// the file it is given). Older builds of `name` are removed.
pub fn cached(
    out_dir: &Path,
    name: &str,
    hash: &str,
    build: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<PathBuf> {
    let stem = format!("{name}-{}", &hash[..16]);
    let wasm = out_dir.join(format!("{stem}.wasm"));
    if wasm.is_file() {
        tracing::debug!(path = %wasm.display(), "up to date");
        return Ok(wasm);
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let lock_path = out_dir.join(format!("{stem}.lock"));
    let lock = File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    if wasm.is_file() {
        return Ok(wasm);
    }
    let partial = out_dir.join(format!("{stem}.wasm.partial"));
    let built = build(&partial);
    if let Err(e) = built {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &wasm)
        .with_context(|| format!("cannot move the component to {}", wasm.display()))?;
    remove_older(out_dir, name, &stem);
    let _ = std::fs::remove_file(&lock_path);
    Ok(wasm)
}

/// Removes the other builds of `name` (`name-HASH.wasm`) in `dir`.
fn remove_older(dir: &Path, name: &str, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(stem) = file.strip_suffix(".wasm") else {
            continue;
        };
        let Some(hash) = stem.strip_prefix(name).and_then(|s| s.strip_prefix('-')) else {
            continue;
        };
        if stem != keep && hash.len() == 16 && hash.bytes().all(|c| c.is_ascii_hexdigit()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_change_with_any_input() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("flow.py"), "a").expect("write");
        std::fs::create_dir_all(dir.path().join("target")).expect("mkdir");
        std::fs::write(dir.path().join("target/out.txt"), "ignored").expect("write");
        let hash = |extra: &str| {
            let mut inputs = BuildInputs::new("python");
            inputs.tree("project", dir.path()).expect("tree");
            inputs.text("tool", extra);
            inputs.finish()
        };
        let first = hash("1");
        assert_eq!(first, hash("1"));
        assert_ne!(first, hash("2"));
        std::fs::write(dir.path().join("target/out.txt"), "still ignored").expect("write");
        assert_eq!(first, hash("1"));
        std::fs::write(dir.path().join("flow.py"), "b").expect("write");
        assert_ne!(first, hash("1"));
    }

    #[test]
    fn names_tell_projects_apart() {
        let a = project_name(Path::new("/x/python/hello"));
        let b = project_name(Path::new("/y/python/hello"));
        assert!(
            a.starts_with("hello-") && b.starts_with("hello-"),
            "{a} {b}"
        );
        assert_ne!(a, b);
        assert_eq!(a, project_name(Path::new("/x/python/hello")));
        assert!(project_name(Path::new("/x/my flow")).starts_with("my_flow-"));
    }

    #[test]
    fn builds_once_and_drops_older_builds() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut calls = 0;
        let mut build = |hash: &str| {
            cached(dir.path(), "hello", hash, |out| {
                calls += 1;
                std::fs::write(out, hash).map_err(Into::into)
            })
            .expect("built")
        };
        let a = build("aaaaaaaaaaaaaaaa0000");
        assert_eq!(build("aaaaaaaaaaaaaaaa0000"), a);
        let b = build("bbbbbbbbbbbbbbbb0000");
        assert_eq!(calls, 2);
        assert!(!a.exists() && b.exists());
        let failed = cached(dir.path(), "hello", "cccccccccccccccc", |_| {
            anyhow::bail!("no")
        });
        assert!(failed.is_err());
        assert!(b.exists());
    }
}
