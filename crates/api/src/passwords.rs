//! Bounded Argon2id (ACC-5).
//!
//! One Argon2id hash or verification takes about 19 MiB and most of a core for
//! tens of milliseconds. Unbounded, a crowd of logins (even for accounts that do
//! not exist, which cost a dummy verification so that timing does not reveal
//! them) would take every core and gigabytes of memory. [`Passwords`] therefore
//! runs at most one hash per core at once; a few more callers may wait briefly
//! for a turn, and past that a caller is refused at once with
//! `503 server_busy` and `Retry-After`.
//!
//! Each turn comes with a memory buffer that is allocated once and then reused
//! (`Argon2::hash_password_into_with_memory`), so hashing does not ask the
//! allocator for 19 MiB on every attempt: the memory held for hashing is at most
//! one buffer per core, whatever the load, and the allocator's per-thread
//! arenas are not left holding freed hashing buffers.
//!
//! Callers run this on a blocking thread and hold no database connection while
//! they do.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::auth::random_bytes;
use crate::error::{ApiError, ApiResult};

/// The most hashes run at once however many cores there are: 8 buffers of
/// 19 MiB keep the memory held for hashing under 160 MiB on any machine.
pub const MAX_PERMITS: usize = 8;

/// Seconds a caller refused for lack of hashing capacity is told to wait.
pub const BUSY_RETRY_AFTER_SECONDS: i64 = 1;

/// The process's hashing capacity: permits with reusable memory, a short queue.
#[derive(Debug)]
pub struct Passwords {
    pool: Mutex<Pool>,
    turn: Condvar,
    permits: usize,
    max_waiting: usize,
    max_wait: Duration,
}

#[derive(Debug, Default)]
struct Pool {
    /// Buffers of finished turns, ready for reuse.
    free: Vec<Vec<Block>>,
    /// Turns being used now.
    in_use: usize,
    /// Callers waiting for a turn.
    waiting: usize,
}

/// One turn at hashing, with its buffer; gives both back when dropped.
struct Turn<'a> {
    owner: &'a Passwords,
    memory: Vec<Block>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut pool = self.owner.lock();
        pool.in_use = pool.in_use.saturating_sub(1);
        pool.free.push(std::mem::take(&mut self.memory));
        drop(pool);
        self.owner.turn.notify_one();
    }
}

impl Passwords {
    /// `permits` concurrent hashes, at most `max_waiting` callers waiting up to
    /// `max_wait` each for a turn.
    pub fn new(permits: usize, max_waiting: usize, max_wait: Duration) -> Self {
        Passwords {
            pool: Mutex::new(Pool::default()),
            turn: Condvar::new(),
            permits: permits.max(1),
            max_waiting,
            max_wait,
        }
    }

    /// One hash per core (`std::thread::available_parallelism`), at most
    /// [`MAX_PERMITS`]; four callers per permit may wait, each for at most
    /// 2 seconds. A hash takes tens of milliseconds, so a full queue drains well
    /// within the wait, and a caller past it is refused at once rather than
    /// queued behind a crowd.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let permits = cores.min(MAX_PERMITS);
        Self::new(permits, permits * 4, Duration::from_secs(2))
    }

    /// How many hashes may run at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn busy() -> ApiError {
        ApiError::Busy {
            retry_after: BUSY_RETRY_AFTER_SECONDS,
            detail: "the server is busy checking passwords; retry in a second".to_owned(),
        }
    }

    /// Waits for a turn, or refuses at once when the queue is full, or after
    /// `max_wait`.
    fn acquire(&self) -> ApiResult<Turn<'_>> {
        let deadline = Instant::now() + self.max_wait;
        let mut pool = self.lock();
        if pool.in_use >= self.permits {
            if pool.waiting >= self.max_waiting {
                return Err(Self::busy());
            }
            pool.waiting += 1;
            while pool.in_use >= self.permits {
                let now = Instant::now();
                if now >= deadline {
                    pool.waiting -= 1;
                    return Err(Self::busy());
                }
                pool = self
                    .turn
                    .wait_timeout(pool, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            pool.waiting -= 1;
        }
        pool.in_use += 1;
        let memory = pool.free.pop().unwrap_or_default();
        Ok(Turn {
            owner: self,
            memory,
        })
    }

    /// Whether `password` matches the stored PHC `hash`, or — when there is no
    /// account (`None`) — the same work against a dummy hash, answering `false`.
    pub fn verify(&self, password: &str, hash: Option<&str>) -> ApiResult<bool> {
        let mut turn = self.acquire()?;
        let matches = verify_in(&mut turn.memory, password, hash.unwrap_or(dummy_hash()));
        Ok(matches && hash.is_some())
    }

    /// Hashes `password` with Argon2id (default parameters) and a fresh salt,
    /// as a PHC string.
    pub fn hash(&self, password: &str) -> ApiResult<String> {
        let mut turn = self.acquire()?;
        hash_in(&mut turn.memory, password)
    }
}

/// A hash to verify against when the account does not exist, so timing does not reveal it.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut memory = Vec::new();
        let secret: String = random_bytes(16)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        hash_in(&mut memory, &secret).unwrap_or_default()
    })
}

/// `memory` grown to `blocks` blocks (it is only ever grown).
fn blocks_of(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

fn verify_in(memory: &mut Vec<Block>, password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let blocks = params.block_count();
    let mut out = vec![0u8; expected.len()];
    let ok = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            blocks_of(memory, blocks),
        )
        .is_ok();
    // Output's equality is constant-time.
    ok && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

fn hash_in(memory: &mut Vec<Block>, password: &str) -> ApiResult<String> {
    let fail = |e: &dyn std::fmt::Display| ApiError::Internal(format!("cannot hash password: {e}"));
    let params = Params::default();
    let salt_bytes = random_bytes(16);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let blocks = params.block_count();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt_bytes,
            &mut out,
            blocks_of(memory, blocks),
        )
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(&salt_bytes).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    use std::sync::Arc;

    #[test]
    fn hashes_interoperate_with_the_argon2_crate() {
        // rule ACC-5: Argon2id, readable by the standard verifier and back
        let p = Passwords::new(1, 0, Duration::from_millis(10));
        let ours = p.hash("Correct-Horse-2026").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(
            Argon2::default()
                .verify_password(b"Correct-Horse-2026", ours.as_str())
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"Correct-Horse-2026")
            .unwrap()
            .to_string();
        assert!(p.verify("Correct-Horse-2026", Some(&theirs)).unwrap());
        assert!(!p.verify("Correct-Horse-2027", Some(&theirs)).unwrap());
        assert!(!p.verify("Correct-Horse-2026", Some("not a hash")).unwrap());
        // No account: the dummy is checked and the answer is always no.
        assert!(!p.verify("anything", None).unwrap());
    }

    #[test]
    fn turns_are_bounded_and_a_full_queue_is_refused_at_once() {
        // rule ACC-5: at most `permits` hashes at once; past the queue, 503 at once
        let p = Arc::new(Passwords::new(1, 1, Duration::from_secs(5)));
        let first = p.acquire().unwrap();
        let waiter = {
            let p = Arc::clone(&p);
            std::thread::spawn(move || p.acquire().map(|_| ()).is_ok())
        };
        while p.lock().waiting == 0 {
            std::thread::yield_now();
        }
        let started = Instant::now();
        let refused = p.acquire().err().unwrap();
        assert!(started.elapsed() < Duration::from_millis(500));
        assert!(matches!(refused, ApiError::Busy { .. }), "{refused:?}");
        drop(first);
        assert!(waiter.join().unwrap(), "the waiter gets the freed turn");
        let pool = p.lock();
        assert_eq!((pool.in_use, pool.waiting), (0, 0));
        assert_eq!(pool.free.len(), 1, "the one buffer is kept for reuse");
    }

    #[test]
    fn a_waiter_gives_up_after_the_longest_wait() {
        let p = Passwords::new(1, 4, Duration::from_millis(50));
        let _held = p.acquire().unwrap();
        assert!(matches!(p.acquire().err(), Some(ApiError::Busy { .. })));
        assert_eq!(p.lock().waiting, 0);
    }
}
