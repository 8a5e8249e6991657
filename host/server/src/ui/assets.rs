//! The embedded UI: every file under `host/server/ui/`, each with its
//! content type and a strong ETag of its bytes.

use std::sync::LazyLock;

use include_dir::{Dir, DirEntry, include_dir};
use sha2::{Digest, Sha256};

static UI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/ui");

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its path under `/ui/`.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    etag: String,
}

impl Asset {
    /// A strong ETag of its bytes (the first 64 bits of their SHA-256, quoted).
    pub fn etag(&self) -> &str {
        &self.etag
    }
}

/// The `Content-Type` of a UI file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<Asset>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => collect(d, out),
            DirEntry::File(f) => {
                let Some(path) = f.path().to_str() else {
                    continue;
                };
                let digest = Sha256::digest(f.contents());
                out.push(Asset {
                    path,
                    content_type: content_type(path),
                    bytes: f.contents(),
                    etag: format!("\"{}\"", hex::encode(&digest[..8])),
                });
            }
        }
    }
}

/// Every embedded file.
pub static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    let mut out = Vec::new();
    collect(&UI, &mut out);
    out
});

/// The asset at `path` (under `/ui/`).
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
