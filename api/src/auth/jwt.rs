//! Access tokens: HS256 only, strict issuer/audience, expiry checked against the injected clock.

use chrono::{DateTime, Utc};
use entity::enums::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub iat: i64,
    pub role: Role,
    pub org: Option<Uuid>,
    /// The login (refresh-token family) this token belongs to.
    pub sid: Uuid,
    /// The user's session version when it was issued.
    pub sv: i32,
}

/// Signing and verification keys with the validation rules.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: i64,
    /// A key derived from the secret for keyed hashes that must not be brute-forced offline.
    fingerprint_key: [u8; 32],
}

impl JwtKeys {
    /// Keys from a shared secret (≥ 32 bytes).
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl_secs: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // `sid` and `sv` are required by `Claims` itself: a token without them does not decode.
        // Expiry is checked against the application clock (testable, one source of time).
        validation.validate_exp = false;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.into(),
            audience: audience.into(),
            ttl_secs,
            fingerprint_key: {
                use sha2::{Digest, Sha256};
                let mut h = Sha256::new();
                h.update(b"liantong idempotency fingerprint\0");
                h.update(secret);
                h.finalize().into()
            },
        }
    }

    /// The key for request fingerprints (derived from the signing secret).
    pub fn fingerprint_key(&self) -> &[u8; 32] {
        &self.fingerprint_key
    }

    /// Lifetime of an access token in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs an access token for a user's login `sid` under session version `sv`.
    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        org: Option<Uuid>,
        sid: Uuid,
        sv: i32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs,
            role,
            org,
            sid,
            sv,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, &'static str> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| "invalid token")?;
        if data.claims.exp <= now.timestamp() {
            return Err("token expired");
        }
        Ok(data.claims)
    }
}
