//! The embedded UI files (`host/server/ui/`), each with its content type.

use std::sync::OnceLock;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its path under `/ui/`.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

impl Asset {
    /// A strong ETag of its bytes (FNV-1a, 64 bits, quoted).
    pub fn etag(&self) -> &'static str {
        static TAGS: OnceLock<Vec<String>> = OnceLock::new();
        let tags = TAGS.get_or_init(|| ASSETS.iter().map(|a| fnv(a.bytes)).collect());
        let i = ASSETS
            .iter()
            .position(|a| a.path == self.path)
            .unwrap_or_default();
        &tags[i]
    }
}

fn fnv(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

macro_rules! assets {
    ($($path:literal => $ty:expr),* $(,)?) => {
        /// Every embedded file.
        pub static ASSETS: &[Asset] = &[$(Asset {
            path: $path,
            content_type: $ty,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $path)),
        }),*];
    };
}

const JS: &str = "text/javascript; charset=utf-8";

assets! {
    "index.html" => "text/html; charset=utf-8",
    "style.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "app.js" => JS,
    "api.js" => JS,
    "dom.js" => JS,
    "live.js" => JS,
    "pages/runs.js" => JS,
    "pages/run.js" => JS,
    "pages/gantt.js" => JS,
    "pages/deployments.js" => JS,
    "pages/form.js" => JS,
    "pages/components.js" => JS,
    "pages/pools.js" => JS,
    "pages/dashboard.js" => JS,
    "pages/lists.js" => JS,
}

/// The asset at `path` (under `/ui/`).
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
