//! Rendered list items, reused while the database says they are current: the appeal list's
//! items ([`AppealCache`]) and the fund programs of the eligibility list ([`ProgramCache`]).
//!
//! A list page costs far more to render (two wide statements, ~3,500 decoded values, 86 KB of
//! JSON for 50 appeals) than to identify. So the list first reads, for its page, each appeal's
//! id and *validator*: the appeal's row version plus its clocks' row versions, which database
//! triggers raise on every update (migration `m20261124_000006_appeal_versions`). An item
//! rendered earlier under the same validator is byte for byte what rendering now would give;
//! any other item is rendered from its rows and kept for the next reader.
//!
//! The validator comes from the database in the same statement as the page, so the cache
//! needs no invalidation and is safe with several api processes: a change made anywhere
//! raises the validator, and the next read misses. A validator never repeats for an appeal
//! (versions only go up, and clocks are never deleted), so an entry is never mistaken for a
//! different state. An item is a pure function of the appeal's and its clocks' rows: nothing
//! in it depends on the reader or on the time of reading.
//!
//! Fund programs work the same way with their own row version (migration
//! `m20261205_000016_program_versions`): the eligibility list reads each open program's id and
//! version, and keeps per program its rendered JSON and its parsed eligibility rules; only the
//! per-enterprise verdict is computed per request.

use quick_cache::{Weighter, sync::Cache};
use std::sync::Arc;
use uuid::Uuid;

/// What an item costs in memory, bytes.
pub trait Weigh {
    fn bytes(&self) -> u64;
}

impl Weigh for actix_web::web::Bytes {
    fn bytes(&self) -> u64 {
        self.len() as u64
    }
}

impl Weigh for Arc<[u8]> {
    fn bytes(&self) -> u64 {
        self.len() as u64
    }
}

/// A rendered item and the validator it was rendered at.
#[derive(Clone)]
struct Item<V> {
    validator: i64,
    value: V,
}

/// Weighs an entry by its bytes, plus what the map and the key cost.
#[derive(Clone)]
struct ByBytes;

impl<V: Weigh> Weighter<Uuid, Item<V>> for ByBytes {
    fn weight(&self, _: &Uuid, item: &Item<V>) -> u64 {
        item.value.bytes() + 64
    }
}

/// A bounded, shared cache of rendered items by id and validator (none when its budget is 0).
#[derive(Clone)]
pub struct ItemCache<V: Clone + Weigh> {
    inner: Option<Arc<Cache<Uuid, Item<V>, ByBytes>>>,
}

impl<V: Clone + Weigh> Default for ItemCache<V> {
    fn default() -> Self {
        Self { inner: None }
    }
}

/// The appeal list's rendered items.
pub type AppealCache = ItemCache<Arc<[u8]>>;

/// An item is about 1.7 KB; the estimate only sizes the cache's tables.
const TYPICAL_ITEM_BYTES: u64 = 2048;

impl<V: Clone + Weigh> ItemCache<V> {
    /// A cache holding up to `bytes` of rendered items; 0 keeps nothing.
    pub fn new(bytes: u64) -> Self {
        let inner = (bytes > 0).then(|| {
            let items = (bytes / TYPICAL_ITEM_BYTES).max(16) as usize;
            Arc::new(Cache::with_weighter(items, bytes, ByBytes))
        });
        Self { inner }
    }

    /// The item of `id` if it was rendered at `validator`.
    pub fn get(&self, id: Uuid, validator: i64) -> Option<V> {
        let item = self.inner.as_ref()?.get(&id)?;
        (item.validator == validator).then_some(item.value)
    }

    /// Keeps the item of `id` rendered at `validator`.
    pub fn put(&self, id: Uuid, validator: i64, value: V) {
        if let Some(c) = &self.inner {
            c.insert(id, Item { validator, value });
        }
    }

    /// The items of a page whose `(id, validator)` pairs are `keys`, in order: those still
    /// current from the cache, the others from `render(ids)` (which renders and keeps them).
    /// An item `render` does not return (a row gone meanwhile) is left out.
    pub async fn page<E, F, Fut>(&self, keys: &[(Uuid, i64)], render: F) -> Result<Vec<V>, E>
    where
        F: FnOnce(Vec<Uuid>) -> Fut,
        Fut: std::future::Future<Output = Result<std::collections::HashMap<Uuid, V>, E>>,
    {
        let mut items: Vec<Option<V>> = keys.iter().map(|&(id, v)| self.get(id, v)).collect();
        let missing: Vec<Uuid> = keys
            .iter()
            .zip(&items)
            .filter(|(_, item)| item.is_none())
            .map(|(k, _)| k.0)
            .collect();
        if !missing.is_empty() {
            let mut rendered = render(missing).await?;
            for (slot, k) in items.iter_mut().zip(keys) {
                if slot.is_none() {
                    *slot = rendered.remove(&k.0);
                }
            }
        }
        Ok(items.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_returned_only_at_its_validator() {
        let cache = AppealCache::new(1 << 20);
        let id = Uuid::now_v7();
        assert!(cache.get(id, 3).is_none());
        cache.put(id, 3, Arc::from(&b"{\"a\":1}"[..]));
        assert_eq!(cache.get(id, 3).as_deref(), Some(&b"{\"a\":1}"[..]));
        assert!(cache.get(id, 4).is_none());
        cache.put(id, 4, Arc::from(&b"{\"a\":2}"[..]));
        assert_eq!(cache.get(id, 4).as_deref(), Some(&b"{\"a\":2}"[..]));
        assert!(cache.get(id, 3).is_none());
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let cache = AppealCache::new(0);
        let id = Uuid::now_v7();
        cache.put(id, 1, Arc::from(&b"{}"[..]));
        assert!(cache.get(id, 1).is_none());
    }
}
