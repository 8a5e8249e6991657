//! Locating the embedded store: weft's home directory.

use std::path::PathBuf;

/// The environment variable that overrides weft's home directory.
pub const WEFT_HOME_ENV: &str = "WEFT_HOME";

/// The database file's name inside weft's home.
pub const DB_FILE: &str = "weft.db";

/// Weft's home directory: `$WEFT_HOME` when set and non-empty, else
/// `~/.weft` (or `./.weft` when no home directory is known).
///
/// The directory is not created here; [`crate::SqliteStore::open_home`]
/// creates it.
pub fn weft_home() -> PathBuf {
    if let Some(dir) = std::env::var_os(WEFT_HOME_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".weft"),
        None => PathBuf::from(".weft"),
    }
}

/// The database file under `home`: `home/weft.db`.
pub fn db_path(home: &std::path::Path) -> PathBuf {
    home.join(DB_FILE)
}
