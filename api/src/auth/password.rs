//! Argon2id password hashing, run off the async executor.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

/// Argon2id with the configured cost.
#[derive(Clone, Copy, Debug)]
pub struct PasswordPolicy {
    m_cost_kib: u32,
    t_cost: u32,
}

/// The minimum length of a password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;

impl PasswordPolicy {
    /// A policy with the given memory (KiB) and time cost.
    pub fn new(m_cost_kib: u32, t_cost: u32) -> Self {
        Self { m_cost_kib, t_cost }
    }

    fn argon2(&self) -> anyhow::Result<Argon2<'static>> {
        let params = Params::new(self.m_cost_kib, self.t_cost, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes a password (blocking work moved to the blocking pool).
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
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

    /// Checks a password against a stored PHC string; `None` verifies against a dummy hash so
    /// that unknown users cost the same time as wrong passwords.
    pub async fn verify(&self, password: String, stored: Option<String>) -> anyhow::Result<bool> {
        let argon = self.argon2()?;
        let dummy = stored.is_none();
        let stored = match stored {
            Some(s) => s,
            None => self.hash("liantong-dummy-password".into()).await?,
        };
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .map(|h| argon.verify_password(password.as_bytes(), &h).is_ok())
                .unwrap_or(false)
        })
        .await?;
        Ok(ok && !dummy)
    }
}

/// Checks the password rules; returns the message for a 422.
pub fn check_password_rules(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.len() > 256 {
        return Err("must be at most 256 bytes".into());
    }
    Ok(())
}
