//! Credentials at rest: the node's secret key and what it seals (connector passwords, API
//! secrets, robot tokens). A sealed value is `rs1.<key id>.<base64 of nonce ‖ ciphertext>`,
//! XChaCha20-Poly1305 with a random nonce and the owning row as associated data, so a sealed
//! value copied onto another row does not open.
//!
//! The key comes from the operator (`RAPPORT_SECRET_KEY`, 32 bytes in base64) or from a file
//! made on first start in the data directory (`secret.key`, mode 0600). Every node of one
//! PostgreSQL database needs the same key; a value sealed under another key says which key
//! sealed it. Backups carry sealed values as they are: keep the key beside them, apart.

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

const PREFIX: &str = "rs1";

/// Why a sealed value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the value is not a sealed secret")]
    Malformed,
    #[error("the value was sealed under key {0}, not this node's key")]
    OtherKey(String),
    #[error("the sealed value was altered or belongs to another row")]
    Tampered,
}

/// The node's secret key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    /// The key of [`Sealer::sign`], derived from the secret key.
    mac_key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({})", self.id)
    }
}

impl Sealer {
    pub fn from_key(key: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"rapport secret key id\n")
            .chain_update(key)
            .finalize();
        let mac_key = Sha256::new()
            .chain_update(b"rapport link signing key\n")
            .chain_update(key)
            .finalize()
            .into();
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
            mac_key,
            id: hex::encode(&digest[..4]),
        }
    }

    /// A key for this process alone (tests, tools that seal nothing that outlives them).
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self::from_key(key)
    }

    /// A key given as 32 bytes in standard base64.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| "the secret key is not base64".to_string())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the secret key must be 32 bytes (44 characters of base64)".to_string())?;
        Ok(Self::from_key(key))
    }

    /// The key in `path`, made (32 random bytes, owner-only) when there is none yet.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_private(path, &B64.encode(key))?;
                Ok(Self::from_key(key))
            }
            Err(e) => Err(e),
        }
    }

    /// Eight hex digits naming the key (not revealing it).
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// A MAC of `data` for `purpose` (an unsubscribe link), in URL-safe base64: proves Rapport
    /// made the link without storing it.
    pub fn sign(&self, purpose: &str, data: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        mac.update(purpose.as_bytes());
        mac.update(b"\n");
        mac.update(data);
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..18])
    }

    /// Whether `signature` is [`Sealer::sign`]'s for `purpose` and `data` (in constant time).
    pub fn verify(&self, purpose: &str, data: &[u8], signature: &str) -> bool {
        let expected = self.sign(purpose, data);
        expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// `plaintext` sealed for the row named `context` (e.g. `connector:<id>`).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption fails only for messages beyond what this cipher counts (256 GiB).
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        format!("{PREFIX}.{}.{}", self.id, B64.encode(blob))
    }

    /// The plaintext of a value sealed for `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError::Malformed);
        };
        if id != self.id {
            return Err(OpenError::OtherKey(id.to_string()));
        }
        let blob = B64.decode(body).map_err(|_| OpenError::Malformed)?;
        if blob.len() < 24 {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(24);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Tampered)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_for_its_row_only() {
        let sealer = Sealer::ephemeral();
        let sealed = sealer.seal("connector:a", "口令 p@ss".as_bytes());
        assert!(!sealed.contains("p@ss"));
        assert_eq!(
            sealer.open("connector:a", &sealed).unwrap(),
            "口令 p@ss".as_bytes()
        );
        assert_eq!(
            sealer.open("connector:b", &sealed),
            Err(OpenError::Tampered)
        );
        // Two seals of one value differ (random nonces).
        assert_ne!(sealed, sealer.seal("connector:a", "口令 p@ss".as_bytes()));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open("connector:a", &altered).is_err());
        assert_eq!(
            sealer.open("connector:a", "plain text"),
            Err(OpenError::Malformed)
        );
    }

    #[test]
    fn a_signature_verifies_for_its_purpose_and_data_only() {
        let sealer = Sealer::ephemeral();
        let signature = sealer.sign("unsubscribe", b"w1\na@b.cn");
        assert!(sealer.verify("unsubscribe", b"w1\na@b.cn", &signature));
        assert!(!sealer.verify("unsubscribe", b"w1\nc@b.cn", &signature));
        assert!(!sealer.verify("other", b"w1\na@b.cn", &signature));
        assert!(!Sealer::ephemeral().verify("unsubscribe", b"w1\na@b.cn", &signature));
    }

    #[test]
    fn another_key_is_named_not_guessed() {
        let first = Sealer::ephemeral();
        let second = Sealer::ephemeral();
        let sealed = first.seal("x", b"secret");
        assert_eq!(
            second.open("x", &sealed),
            Err(OpenError::OtherKey(first.key_id().to_string()))
        );
    }

    #[test]
    fn the_key_file_is_made_once_and_read_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let made = Sealer::load_or_create(&path).unwrap();
        let read = Sealer::load_or_create(&path).unwrap();
        assert_eq!(made.key_id(), read.key_id());
        let sealed = made.seal("x", b"v");
        assert_eq!(read.open("x", &sealed).unwrap(), b"v");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(Sealer::parse("c2hvcnQ=").is_err());
    }
}
