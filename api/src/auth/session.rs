//! Whether the login behind an access token is still alive: the user is active, the token was
//! issued under the user's current session version (an administrator's deactivation raises it),
//! and its login (refresh-token family) has not been ended by logout or reuse detection (which
//! revoke every token of the family).
//!
//! Each api process keeps an answer until the change feed (`jobs::feed`) says the login or the
//! user changed — at once in this process, within `CHANGE_FEED_POLL_MS` in every other — and
//! at most `SESSION_CHECK_MS` (5 minutes by default; 0: no cache). While the feed cannot be
//! read, every request reads the database.

use super::jwt::Claims;
use crate::error::AppResult;
use entity::{refresh_token, user};
use jobs::feed::{Cached, Feed, On, Topic};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::time::Duration;
use uuid::Uuid;

/// The per-process cache of session answers, keyed by login.
#[derive(Clone)]
pub struct Sessions {
    answers: Cached<bool>,
}

impl Sessions {
    /// A cache kept right by `feed`, each answer kept at most `max_age`.
    pub fn new(feed: &Feed, max_age: Duration) -> Self {
        Self {
            answers: feed.cache(
                &[(Topic::Login, On::Key), (Topic::User, On::All)],
                100_000,
                max_age,
            ),
        }
    }

    /// Whether the token's login may still be used.
    pub async fn alive(&self, conn: &impl ConnectionTrait, claims: &Claims) -> AppResult<bool> {
        self.answers
            .get_or_load(claims.sid, || check(conn, claims))
            .await
    }

    /// Forgets what this process knows of a login (the others learn from the change feed).
    pub fn forget(&self, sid: Uuid) {
        self.answers.invalidate(sid);
    }

    /// Forgets every login of this process (after a user's sessions were ended).
    pub fn forget_all(&self) {
        self.answers.clear();
    }
}

async fn check(conn: &impl ConnectionTrait, claims: &Claims) -> AppResult<bool> {
    let user: Option<(bool, i32)> = user::Entity::find_by_id(claims.sub)
        .select_only()
        .column(user::Column::Active)
        .column(user::Column::SessionVersion)
        .into_tuple()
        .one(conn)
        .await?;
    let Some((active, version)) = user else {
        return Ok(false);
    };
    if !active || version != claims.sv {
        return Ok(false);
    }
    // Logout and reuse detection revoke every token of the login, used ones included.
    let ended: Option<Uuid> = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::Id)
        .filter(refresh_token::Column::FamilyId.eq(claims.sid))
        .filter(refresh_token::Column::RevokedAt.is_not_null())
        .into_tuple()
        .one(conn)
        .await?;
    Ok(ended.is_none())
}
