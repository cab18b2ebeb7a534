//! Argon2id password hashing, bounded: at most one hash per CPU core runs at a time (each takes
//! `m_cost` of memory), a caller waits for a slot only so long and only behind so many others,
//! and beyond that is answered 503. A login for an unknown user verifies against a dummy hash
//! computed once, so it costs exactly one hash like any other.

use crate::error::AppError;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

/// Argon2id with the configured cost and concurrency.
#[derive(Clone, Debug)]
pub struct PasswordPolicy {
    m_cost_kib: u32,
    t_cost: u32,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    wait: Duration,
    dummy: Arc<OnceCell<String>>,
}

/// A held hashing slot: hash or verify while it lives.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

/// The minimum length of a password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The maximum length of a password, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// How many callers may wait for a slot, per slot.
const WAITERS_PER_SLOT: usize = 8;

impl PasswordPolicy {
    /// A policy with the given memory (KiB) and time cost, `slots` hashes at once, and a wait
    /// for a slot of at most `wait`.
    pub fn new(m_cost_kib: u32, t_cost: u32, slots: usize, wait: Duration) -> Self {
        let slots = slots.max(1);
        Self {
            m_cost_kib,
            t_cost,
            slots: Arc::new(Semaphore::new(slots)),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: slots * WAITERS_PER_SLOT,
            wait,
            dummy: Arc::new(OnceCell::new()),
        }
    }

    fn argon2(&self) -> anyhow::Result<Argon2<'static>> {
        let params = Params::new(self.m_cost_kib, self.t_cost, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Waits for a hashing slot; 503 when too many are waiting or the wait runs out.
    pub async fn slot(&self) -> Result<Slot, AppError> {
        let busy = || AppError::Busy {
            retry_after_secs: 1,
        };
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let got = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match got {
            Ok(Ok(permit)) => Ok(Slot(permit)),
            _ => Err(busy()),
        }
    }

    /// Computes the dummy hash now, so no login pays for it.
    pub async fn warm(&self) -> anyhow::Result<()> {
        self.dummy().await.map(|_| ())
    }

    async fn dummy(&self) -> anyhow::Result<&String> {
        self.dummy
            .get_or_try_init(|| self.compute("liantong-dummy-password".into()))
            .await
    }

    async fn compute(&self, password: String) -> anyhow::Result<String> {
        let argon = self.argon2()?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hash: {e}"))
        })
        .await?
    }

    /// Hashes a password in a slot (blocking work moved to the blocking pool).
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _slot = self.slot().await?;
        Ok(self.compute(password).await?)
    }

    /// Checks a password against a stored PHC string, in a slot the caller holds; `None`
    /// verifies against the dummy hash, so an unknown user costs the same single hash.
    pub async fn verify(
        &self,
        _slot: &Slot,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, AppError> {
        let argon = self.argon2()?;
        let known = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => self.dummy().await?.clone(),
        };
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .map(|h| argon.verify_password(password.as_bytes(), &h).is_ok())
                .unwrap_or(false)
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
        Ok(ok && known)
    }
}

/// Checks the password rules; returns the message for a 422.
pub fn check_password_rules(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    // Characters, like every other limit (and as the API description states): 256 of them
    // are at most 1 KiB, which costs argon2 nothing more.
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_limits_count_characters() {
        assert!(check_password_rules(&"密".repeat(256)).is_ok());
        assert!(check_password_rules(&"密".repeat(257)).is_err());
        assert!(check_password_rules(&"密".repeat(9)).is_err());
    }

    #[tokio::test]
    async fn a_caller_beyond_the_slots_and_the_queue_is_refused_at_once() {
        let p = PasswordPolicy::new(64, 1, 1, Duration::from_millis(50));
        let held = p.slot().await.expect("first slot");
        // The one slot is held: a waiter times out with 503.
        assert!(matches!(p.slot().await, Err(AppError::Busy { .. })));
        drop(held);
        let slot = p.slot().await.expect("slot after release");
        assert!(p.verify(&slot, "x".into(), None).await.is_ok_and(|ok| !ok));
    }
}
