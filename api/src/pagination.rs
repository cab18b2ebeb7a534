//! Keyset pagination over time-ordered UUID v7 keys: `?limit=` (default 50, max 200) and an
//! opaque `?cursor=`; answers `{items, next_cursor}`.

use crate::error::{AppError, AppResult};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]{21}[AQgw]$")]
    pub cursor: Option<String>,
}

/// A `?limit=` in effect: 50 by default, 1–200, else 400 (a bad query).
pub fn limit_of(limit: Option<u64>) -> AppResult<u64> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(AppError::BadRequest(
            "limit must be between 1 and 200".into(),
        )),
    }
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Maps the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

impl PageQuery {
    /// The page size in effect.
    pub fn limit(&self) -> AppResult<u64> {
        limit_of(self.limit)
    }

    /// The id after which the page starts.
    pub fn after(&self) -> AppResult<Option<Uuid>> {
        let Some(c) = &self.cursor else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| Uuid::from_slice(&b).ok())
            .map(Some)
            .ok_or_else(|| AppError::BadRequest("cursor is not a cursor this API returned".into()))
    }
}

/// Fetches one page of `select`, ordered by the UUID key `id`.
pub async fn fetch<E, M, C>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    id: C,
    page: &PageQuery,
    key_of: impl Fn(&M) -> Uuid,
) -> AppResult<Page<M>>
where
    E: EntityTrait<Model = M>,
    M: FromQueryResult + Sized + Send + Sync,
    C: ColumnTrait,
{
    let (q, limit) = page_of(select, id, page)?;
    Ok(finish(q.all(conn).await?, limit, key_of))
}

/// Fetches one page of `select`, newest first: ordered by the UUID v7 key `id` descending, the
/// cursor being the last (oldest) item of the previous page.
pub async fn fetch_newest_first<E, M, C>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
    id: C,
    page: &PageQuery,
    key_of: impl Fn(&M) -> Uuid,
) -> AppResult<Page<M>>
where
    E: EntityTrait<Model = M>,
    M: FromQueryResult + Sized + Send + Sync,
    C: ColumnTrait,
{
    let limit = page.limit()?;
    let mut q = select.order_by_desc(id).limit(limit + 1);
    if let Some(before) = page.after()? {
        q = q.filter(id.lt(before));
    }
    Ok(finish(q.all(conn).await?, limit, key_of))
}

/// `select` ordered by `id`, after the cursor, one row past the page (to know if more follow).
pub(crate) fn page_of<E: EntityTrait, C: ColumnTrait>(
    select: Select<E>,
    id: C,
    page: &PageQuery,
) -> AppResult<(Select<E>, u64)> {
    let limit = page.limit()?;
    let mut q = select.order_by_asc(id).limit(limit + 1);
    if let Some(after) = page.after()? {
        q = q.filter(id.gt(after));
    }
    Ok((q, limit))
}

/// The page of `items` (fetched with one extra row) and the cursor after its last item.
pub(crate) fn finish<M>(mut items: Vec<M>, limit: u64, key_of: impl Fn(&M) -> Uuid) -> Page<M> {
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|m| URL_SAFE_NO_PAD.encode(key_of(m).as_bytes()))
    } else {
        None
    };
    Page { items, next_cursor }
}
