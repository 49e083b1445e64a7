//! Passwords: Argon2id hashing and verification within a fixed amount of memory, and the policy
//! a new password must meet.
//!
//! One Argon2 run (Rapport's parameters: 19 MiB, two passes, one lane) needs 19 MiB of work
//! memory. Runs happen on the blocking pool, at most `concurrency` at a time (by default the
//! number of cores: more would only queue for the CPU), each in a memory block taken from a pool
//! that is allocated once and reused. However many logins arrive, hashing never holds more than
//! `concurrency` × 19 MiB. A bounded number of callers may wait for a turn; beyond that a caller
//! is refused at once with 503 `server_busy` and `Retry-After`, so a flood costs nothing but the
//! refusals.
//!
//! The policy refuses passwords shorter than 8 characters, longer than 1,024 bytes, made of
//! fewer than 4 different characters (`12121212`, eight spaces) or on the embedded list of
//! common passwords (`common_passwords.txt`: the 3,395 passwords of at least 8 characters among
//! the 10,000 most common ones of the zxcvbn project's list (MIT licence), plus common Chinese
//! ones), compared without case.

use crate::error::ApiError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rapport_core::ErrorCode;
use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use tokio::sync::Semaphore;

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;
const MIN_DISTINCT_CHARS: usize = 4;
/// Callers that may wait for a turn, per concurrent run.
const WAITING_PER_RUN: usize = 8;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

fn weak(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::WeakPassword, message)
}

/// Checks a new password against the policy (422 `weak_password`).
pub fn check_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(weak(format!(
            "a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} characters"
        )));
    }
    let distinct: HashSet<char> = password.chars().collect();
    if distinct.len() < MIN_DISTINCT_CHARS || password.trim().is_empty() {
        return Err(weak(format!(
            "a password needs at least {MIN_DISTINCT_CHARS} different characters"
        )));
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(weak(
            "this password is one of the most common ones; choose another",
        ));
    }
    Ok(())
}

/// Rapport's Argon2id parameters (the argon2 crate's defaults: OWASP's 19 MiB, t=2, p=1).
fn params() -> Params {
    Params::default()
}

fn busy() -> ApiError {
    ApiError::new(
        ErrorCode::ServerBusy,
        "too many password checks at once; retry in a moment",
    )
    .retry_after(1)
}

/// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) using
/// `memory` as Argon2's work memory.
fn hash_in(password: &str, memory: &mut [Block]) -> Result<String, ApiError> {
    let params = params();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(ApiError::internal)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
        .map_err(ApiError::internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(ApiError::internal)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash`, computed in `memory` (or in a buffer of
/// its own when the hash asks for more memory than `memory` has). A malformed hash never
/// matches.
fn verify_in(password: &str, hash: &str, memory: &mut [Block]) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
        None => Version::default(),
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = if memory.len() >= params.block_count() {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    } else {
        argon2.hash_password_into(password.as_bytes(), salt_bytes, &mut out)
    };
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// Hashes a password outside any server (the command line, tests).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    hash_in(
        password,
        &mut vec![Block::default(); params().block_count()],
    )
}

/// Verifies a password outside any server (the command line, tests).
pub fn verify_password(password: &str, hash: &str) -> bool {
    verify_in(
        password,
        hash,
        &mut vec![Block::default(); params().block_count()],
    )
}

/// A hash nobody's password matches, verified for unknown emails so that they cost the same
/// time as a wrong password.
static DECOY: OnceLock<String> = OnceLock::new();

/// The server's password hasher: bounded concurrency over a pool of reused work memory.
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    memory: Mutex<Vec<Vec<Block>>>,
}

impl Hasher {
    /// A hasher running at most `concurrency` Argon2 computations at once (at least one).
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            inner: Arc::new(Inner {
                running: Arc::new(Semaphore::new(concurrency)),
                admitted: Arc::new(Semaphore::new(concurrency * (1 + WAITING_PER_RUN))),
                memory: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Runs `work` with a block of work memory on the blocking pool when a turn is free; 503
    /// `server_busy` when too many callers already wait.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let admitted = self
            .inner
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy())?;
        let running = self
            .inner
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = (admitted, running);
            let mut memory = inner
                .memory
                .lock()
                .ok()
                .and_then(|mut pool| pool.pop())
                .unwrap_or_else(|| vec![Block::default(); params().block_count()]);
            let result = work(&mut memory);
            if let Ok(mut pool) = inner.memory.lock() {
                // At most `concurrency` blocks exist: one per running computation.
                pool.push(memory);
            }
            result
        })
        .await
        .map_err(ApiError::internal)
    }

    /// A new PHC hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_in(&password, memory)).await?
    }

    /// Whether `password` matches `hash`; with no hash (an unknown email) the same work is
    /// done against a decoy and the answer is no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        self.run(move |memory| match hash {
            Some(hash) => verify_in(&password, &hash, memory),
            None => {
                let decoy = match DECOY.get() {
                    Some(decoy) => decoy.clone(),
                    None => {
                        // Should hashing fail, an empty decoy still answers no; only the equal timing is lost.
                        let made = hash_in("rapport decoy", memory).unwrap_or_default();
                        DECOY.get_or_init(|| made).clone()
                    }
                };
                verify_in(&password, &decoy, memory);
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_interoperate_with_the_argon2_crate() {
        let ours = hash_password("correct horse battery staple").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok());
        let theirs = Argon2::default()
            .hash_password(b"another one", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_password("another one", &theirs));
        assert!(!verify_password("another two", &theirs));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("x", ""));
    }

    #[test]
    fn the_policy_refuses_short_repetitive_and_common_passwords() {
        for weak in [
            "short",
            "12345678",
            "        ",
            "aaaaaaaa",
            "12121212",
            "Password",
            "PASSWORD123",
            "iloveyou",
            "woaini1314",
            "qwertyuiop",
        ] {
            assert!(check_strength(weak).is_err(), "{weak:?} passed");
        }
        for good in [
            "correct horse battery staple",
            "Sales-2026-rapport!",
            "rapport-demo",
            "销售部的新密码很长",
        ] {
            assert!(check_strength(good).is_ok(), "{good:?} refused");
        }
        assert!(
            check_strength(&"ab1!".repeat(300)).is_err(),
            "over 1024 bytes"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_beyond_the_queue_is_refused_at_once() {
        let hasher = Hasher::new(1);
        let hash = hasher.hash("a fine password".into()).await.unwrap();
        let attempts: Vec<_> = (0..40)
            .map(|_| {
                let hasher = hasher.clone();
                let hash = hash.clone();
                tokio::spawn(async move { hasher.verify("wrong".into(), Some(hash)).await })
            })
            .collect();
        let mut busy = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(matched) => assert!(!matched),
                Err(e) => {
                    assert_eq!((e.status().as_u16(), e.code), (503, ErrorCode::ServerBusy));
                    assert_eq!(e.retry_after, Some(1));
                    busy += 1;
                }
            }
        }
        assert!(busy > 0, "40 callers on a queue of 9 were all admitted");
        assert!(hasher
            .verify("a fine password".into(), Some(hash))
            .await
            .unwrap());
        assert!(!hasher.verify("anything".into(), None).await.unwrap());
        let pool = hasher.inner.memory.lock().unwrap().len();
        assert_eq!(pool, 1, "one computation at a time needs one block");
    }
}
