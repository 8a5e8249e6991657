//! Secret encryption: the store's key and XChaCha20-Poly1305 sealing.
//!
//! Each value is sealed with a fresh random 24-byte nonce and the secret's
//! name as associated data (a value cannot be moved to another name), and
//! stored as `nonce || ciphertext`. Plaintext never reaches the database.

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::StoreError;

/// The environment variable holding the key as 64 hex characters; it wins
/// over the key file.
pub const SECRET_KEY_ENV: &str = "WEFT_SECRET_KEY";

/// The key file's name inside weft's home.
pub const SECRET_KEY_FILE: &str = "secret.key";

const NONCE_LEN: usize = 24;

/// The 32-byte key that encrypts secrets at rest.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// The key from `WEFT_SECRET_KEY` (64 hex characters) when set, else
    /// from `home/secret.key`, which is created (hex, mode 0600, along with
    /// `home`) holding a new random key when absent.
    pub fn load_or_create(home: &Path) -> Result<SecretKey, StoreError> {
        if let Some(hex) = std::env::var_os(SECRET_KEY_ENV).filter(|v| !v.is_empty()) {
            let hex = hex
                .into_string()
                .map_err(|_| StoreError::InvalidKey(format!("{SECRET_KEY_ENV} is not UTF-8")))?;
            return SecretKey::from_hex(&hex);
        }
        let path = home.join(SECRET_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => return SecretKey::from_hex(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        std::fs::create_dir_all(home)?;
        let key = SecretKey::generate();
        match create_private(&path) {
            Ok(mut file) => {
                file.write_all(key.to_hex().as_bytes())?;
                file.sync_all()?;
                tracing::info!(path = %path.display(), "created a new secret key");
                Ok(key)
            }
            // Someone else created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                SecretKey::from_hex(&std::fs::read_to_string(&path)?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Parses 64 hex characters (surrounding whitespace is ignored).
    pub fn from_hex(s: &str) -> Result<SecretKey, StoreError> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(StoreError::InvalidKey(format!(
                "expected 64 hex characters, got {}",
                s.len()
            )));
        }
        let mut key = [0u8; 32];
        hex::decode_to_slice(s, &mut key).map_err(|e| StoreError::InvalidKey(e.to_string()))?;
        Ok(SecretKey(key))
    }

    /// A new random key.
    pub fn generate() -> SecretKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        SecretKey(key)
    }

    /// The key as 64 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Seals `plaintext` for the secret `name`: `nonce || ciphertext`.
    pub fn encrypt(&self, name: &str, plaintext: &str) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Crypto(format!("cannot encrypt secret {name:?}")))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed by [`SecretKey::encrypt`] for the secret `name`.
    pub fn decrypt(&self, name: &str, sealed: &[u8]) -> Result<String, StoreError> {
        if sealed.len() < NONCE_LEN {
            return Err(StoreError::Crypto(format!("secret {name:?} is truncated")));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| {
                StoreError::Crypto(format!(
                    "cannot decrypt secret {name:?}: wrong key or corrupt value"
                ))
            })?;
        String::from_utf8(plain)
            .map_err(|_| StoreError::Crypto(format!("secret {name:?} is not UTF-8")))
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_binding_to_name() {
        let key = SecretKey::generate();
        let sealed = key.encrypt("db", "hunter2").unwrap();
        assert_eq!(key.decrypt("db", &sealed).unwrap(), "hunter2");
        assert!(key.decrypt("other", &sealed).is_err());
        assert!(SecretKey::generate().decrypt("db", &sealed).is_err());
        assert!(key.decrypt("db", &sealed[..10]).is_err());
        assert_ne!(
            sealed,
            key.encrypt("db", "hunter2").unwrap(),
            "fresh nonce per value"
        );
    }

    #[test]
    fn hex_parsing() {
        let key = SecretKey::generate();
        assert_eq!(
            SecretKey::from_hex(&format!(" {}\n", key.to_hex()))
                .unwrap()
                .0,
            key.0
        );
        assert!(SecretKey::from_hex("abc").is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(SecretKey::from_hex(&"é".repeat(32)).is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        if std::env::var_os(SECRET_KEY_ENV).is_some() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let a = SecretKey::load_or_create(&home).unwrap();
        let b = SecretKey::load_or_create(&home).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.join(SECRET_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
