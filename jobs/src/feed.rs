//! The change feed: how a process keeps answers in memory without ever serving one that another
//! process has made wrong.
//!
//! Database triggers append a row to `change_feed` for each change a cached answer depends on
//! (migration `m20261207_000018_change_feed`): a login ended (`login`, its refresh-token family),
//! a user deactivated or their sessions ended (`user`), a user's notifications added, read or
//! deleted (`unread`; without a key: everybody's). Each process that caches runs one [`Feed`]:
//! a poller that reads the rows of the last `lookback` every `poll` (one indexed range, whatever
//! the load) and drops the cached answers they name. Within the process, the code that makes
//! such a change calls [`touched`] as well, so its own next request never waits for the poll.
//!
//! A [`Cached`] answer is served only while the feed is live (its last read succeeded within a
//! few intervals): if the database cannot be read, nothing cached is trusted, and after a gap
//! longer than the lookback everything cached is dropped. A load races an invalidation safely:
//! an answer read before a change is kept only if no invalidation of its shard happened while
//! it was read. So across processes an answer is at most one poll interval old, and at most
//! `max_age` in any case.
//!
//! How the poller reads ([`Cursor`]): the rows after the highest id it has read, plus the ids
//! below it it has not seen yet (its gaps). On PostgreSQL an id is taken when a transaction
//! writes, not when it commits, so a row can appear behind one already read; a gap is asked for
//! again at every poll until its row appears or `lookback` has passed (its transaction rolled
//! back, or took longer than any the feed promises to follow). So each row is read about once,
//! whatever the write rate; re-reading the whole window at each poll, as the first version did,
//! cost PostgreSQL a tenth of a core under 400 submissions a second. SQLite has one writer at a
//! time, so its ids become visible in order and it has no gaps.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    sync::{
        Arc, Mutex, MutexGuard, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use uuid::Uuid;

/// What a feed row says changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A login (refresh-token family) was ended; key: the family.
    Login,
    /// A user's `active` flag or session version changed; key: the user.
    User,
    /// A user's notifications changed; key: the user (none: every user's).
    Unread,
}

impl Topic {
    fn parse(code: &str) -> Option<Self> {
        match code {
            "login" => Some(Self::Login),
            "user" => Some(Self::User),
            "unread" => Some(Self::Unread),
            _ => None,
        }
    }
}

/// What a cache does when a topic it follows changes: drop the named key, or everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Key,
    All,
}

/// Shards of a [`Cached`]: an invalidation blocks, and fails in-flight loads of, one shard only.
const SHARDS: usize = 64;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Something a feed invalidates.
trait Sink: Send + Sync {
    fn changed(&self, topic: Topic, key: Option<Uuid>);
    fn clear(&self);
}

struct FeedInner {
    db: DatabaseConnection,
    poll: Duration,
    lookback: Duration,
    /// When the feed was made; `last_ok` counts from here.
    base: Instant,
    /// Milliseconds after `base` of the last successful read, plus one (0: never).
    last_ok: AtomicU64,
    sinks: Mutex<Vec<Weak<dyn Sink>>>,
}

impl FeedInner {
    fn live(&self) -> bool {
        let ok = self.last_ok.load(Ordering::Acquire);
        if ok == 0 {
            return false;
        }
        let age = (self.base.elapsed().as_millis() as u64 + 1).saturating_sub(ok);
        age <= self.stale_after().as_millis() as u64
    }

    /// A feed whose last read is older than this is not live.
    fn stale_after(&self) -> Duration {
        (self.poll * 5).max(Duration::from_secs(2))
    }

    fn sinks(&self) -> Vec<Arc<dyn Sink>> {
        let mut sinks = lock(&self.sinks);
        sinks.retain(|s| s.strong_count() > 0);
        sinks.iter().filter_map(Weak::upgrade).collect()
    }

    fn dispatch(&self, topic: Topic, keys: &[Option<Uuid>]) {
        for sink in self.sinks() {
            for key in keys {
                sink.changed(topic, *key);
            }
        }
    }

    /// The feed's rows of the last `lookback`, by the database's clock, and the highest id
    /// written (0: none): where a poller starts.
    async fn start_at(&self) -> Result<(Vec<FeedRow>, i64), DbErr> {
        let rows = self
            .db
            .query_all_raw(since(
                &self.db,
                "SELECT id, topic, key",
                ">",
                self.lookback,
                "ORDER BY id",
            ))
            .await?;
        let rows = rows.iter().map(feed_row).collect::<Result<Vec<_>, _>>()?;
        let backend = self.db.get_database_backend();
        let high = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COALESCE(MAX(id), 0) FROM change_feed",
            ))
            .await?
            .map(|r| r.try_get_by_index::<i64>(0))
            .transpose()?
            .unwrap_or(0);
        Ok((rows, high))
    }

    /// The rows after `cursor.high`, and those of its gaps that have appeared, by id.
    async fn after(&self, cursor: &Cursor) -> Result<Vec<FeedRow>, DbErr> {
        let backend = self.db.get_database_backend();
        let stmt = match backend {
            // One statement text whatever the gaps, so it stays prepared.
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT id, topic, key FROM change_feed \
                 WHERE id > $1 OR id = ANY(string_to_array($2, ',')::BIGINT[]) ORDER BY id",
                [cursor.high.into(), cursor.gap_list().into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT id, topic, key FROM change_feed WHERE id > ? ORDER BY id",
                [cursor.high.into()],
            ),
        };
        let rows = self.db.query_all_raw(stmt).await?;
        rows.iter().map(feed_row).collect()
    }
}

/// A feed row: id, topic, key.
type FeedRow = (i64, String, Option<Uuid>);

fn feed_row(r: &sea_orm::QueryResult) -> Result<FeedRow, DbErr> {
    Ok((
        r.try_get_by_index(0)?,
        r.try_get_by_index(1)?,
        r.try_get_by_index(2)?,
    ))
}

/// Gaps a poller follows at most; past this it drops every cached answer and starts afresh
/// rather than read a list this long at each poll (thousands of writes rolled back at once).
const MAX_GAPS: usize = 10_000;

/// Where a poller is: every row up to `high` has been read, except the `gaps`, each with when
/// it was first missed.
#[derive(Debug, Default)]
struct Cursor {
    high: i64,
    gaps: BTreeMap<i64, Instant>,
}

impl Cursor {
    /// A cursor after the rows of the window and `high`; the ids between the window's rows
    /// that are not there are gaps.
    fn starting(rows: &[FeedRow], high: i64, now: Instant) -> Self {
        let mut cursor = Self {
            high: rows.first().map_or(high, |r| r.0),
            gaps: BTreeMap::new(),
        };
        cursor.take(rows, now);
        cursor.high = cursor.high.max(high);
        cursor
    }

    /// Takes in `rows` read after the cursor: those not seen before, and moves past them.
    /// Ids skipped on the way become gaps; a gap whose row came is closed.
    fn take<'r>(&mut self, rows: &'r [FeedRow], now: Instant) -> Vec<&'r FeedRow> {
        let mut fresh = Vec::new();
        for row in rows {
            let id = row.0;
            if id > self.high {
                self.gaps.extend((self.high + 1..id).map(|g| (g, now)));
                self.high = id;
                fresh.push(row);
            } else if self.gaps.remove(&id).is_some() {
                fresh.push(row);
            }
        }
        fresh
    }

    /// Forgets the gaps first missed more than `lookback` ago.
    fn expire(&mut self, now: Instant, lookback: Duration) {
        self.gaps
            .retain(|_, missed| now.saturating_duration_since(*missed) <= lookback);
    }

    /// The gaps as `1,5,9` (empty: none).
    fn gap_list(&self) -> String {
        let mut out = String::new();
        for id in self.gaps.keys() {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&id.to_string());
        }
        out
    }
}

/// `{head} FROM change_feed WHERE at_ms {op} <the database's now> - age {tail}`.
fn since(db: &impl ConnectionTrait, head: &str, op: &str, age: Duration, tail: &str) -> Statement {
    let backend = db.get_database_backend();
    let (now_ms, param) = match backend {
        DbBackend::Postgres => (
            "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT",
            "$1",
        ),
        _ => (
            "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            "?",
        ),
    };
    let age = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    Statement::from_sql_and_values(
        backend,
        format!("{head} FROM change_feed WHERE at_ms {op} {now_ms} - {param} {tail}"),
        [age.into()],
    )
}

/// Deletes the feed's rows older than `age` (housekeeping: pollers read only the last
/// seconds); returns how many went.
pub async fn prune(db: &impl ConnectionTrait, age: Duration) -> Result<u64, DbErr> {
    Ok(db
        .execute_raw(since(db, "DELETE", "<", age, ""))
        .await?
        .rows_affected())
}

/// The feeds of this process, for [`touched`].
static LOCAL: Mutex<Vec<Weak<FeedInner>>> = Mutex::new(Vec::new());

/// Tells this process's caches at once that `keys` of `topic` changed (the poll tells every
/// other process). Called by the code that makes the change, in or after its transaction: an
/// answer read between this call and the commit is dropped again by the next poll.
pub fn touched(topic: Topic, keys: impl IntoIterator<Item = Uuid>) {
    let feeds: Vec<Arc<FeedInner>> = {
        let mut local = lock(&LOCAL);
        local.retain(|f| f.strong_count() > 0);
        local.iter().filter_map(Weak::upgrade).collect()
    };
    if feeds.is_empty() {
        return;
    }
    let keys: Vec<Option<Uuid>> = keys.into_iter().map(Some).collect();
    for feed in feeds {
        feed.dispatch(topic, &keys);
    }
}

/// One process's reader of the change feed and the caches it keeps right.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<FeedInner>,
}

impl Feed {
    /// Starts reading `change_feed` every `poll`, `lookback` far back (needs a tokio runtime);
    /// the poller stops when the last clone of the feed is dropped.
    pub fn start(db: DatabaseConnection, poll: Duration, lookback: Duration) -> Self {
        let inner = Arc::new(FeedInner {
            db,
            poll: poll.max(Duration::from_millis(10)),
            lookback,
            base: Instant::now(),
            last_ok: AtomicU64::new(0),
            sinks: Mutex::new(Vec::new()),
        });
        lock(&LOCAL).push(Arc::downgrade(&inner));
        tokio::spawn(run(Arc::downgrade(&inner)));
        Self { inner }
    }

    /// Whether the feed's last read is recent, so cached answers may be served.
    pub fn live(&self) -> bool {
        self.inner.live()
    }

    /// Waits until the feed is live, for at most `within`; whether it is.
    pub async fn wait_live(&self, within: Duration) -> bool {
        let started = Instant::now();
        while !self.live() {
            if started.elapsed() >= within {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// A cache of answers by key, dropped as `follows` says when a topic changes, kept at most
    /// `max_age` (zero: nothing is cached) and about `capacity` answers.
    pub fn cache<V: Clone + Send + 'static>(
        &self,
        follows: &[(Topic, On)],
        capacity: usize,
        max_age: Duration,
    ) -> Cached<V> {
        let inner = Arc::new(CacheInner {
            feed: self.inner.clone(),
            follows: follows.to_vec(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            max_age,
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        epoch: 0,
                        answers: HashMap::new(),
                        loading: HashMap::new(),
                    })
                })
                .collect(),
        });
        let sink: Arc<dyn Sink> = inner.clone();
        lock(&self.inner.sinks).push(Arc::downgrade(&sink));
        Cached { inner }
    }
}

async fn run(feed: Weak<FeedInner>) {
    let mut cursor: Option<Cursor> = None;
    let mut last_ok: Option<Instant> = None;
    loop {
        let Some(inner) = feed.upgrade() else {
            return;
        };
        let started = Instant::now();
        // Changes may have left the window unseen since the last read: start afresh, and drop
        // everything once read.
        let lost = last_ok.is_some_and(|t| t.elapsed() + inner.poll * 2 > inner.lookback);
        let read = match &mut cursor {
            Some(c) if !lost => inner.after(c).await.map(|rows| {
                for (_, topic, key) in c.take(&rows, started) {
                    if let Some(topic) = Topic::parse(topic) {
                        inner.dispatch(topic, &[*key]);
                    }
                }
                c.expire(started, inner.lookback);
            }),
            // Nothing was cached before the first read: what is there is old news.
            _ => inner.start_at().await.map(|(rows, high)| {
                if lost {
                    for sink in inner.sinks() {
                        sink.clear();
                    }
                }
                cursor = Some(Cursor::starting(&rows, high, started));
            }),
        };
        if cursor.as_ref().is_some_and(|c| c.gaps.len() > MAX_GAPS) {
            tracing::warn!("the change feed has too many gaps: every cached answer is dropped");
            cursor = None;
            for sink in inner.sinks() {
                sink.clear();
            }
        }
        match read {
            Ok(()) => {
                last_ok = Some(started);
                let at = started.duration_since(inner.base).as_millis() as u64 + 1;
                inner.last_ok.store(at, Ordering::Release);
            }
            Err(e) => tracing::warn!(error = %e, "the change feed could not be read"),
        }
        let poll = inner.poll;
        drop(inner);
        tokio::time::sleep(poll).await;
    }
}

struct Shard<V> {
    /// Raised by every invalidation of the shard: a load that saw another value keeps nothing.
    epoch: u64,
    /// Each answer and the instant it stops being served.
    answers: HashMap<Uuid, (V, Instant)>,
    /// The loads in flight, by key: a request that misses while one is running waits for it
    /// (its write guard) instead of reading the database too.
    loading: HashMap<Uuid, Arc<tokio::sync::RwLock<()>>>,
}

/// The one load in flight for a key; dropped (done, failed or cancelled), it lets the waiting
/// requests go on.
struct Leading<'a, V> {
    cache: &'a CacheInner<V>,
    key: Uuid,
    flight: Arc<tokio::sync::RwLock<()>>,
    _guard: tokio::sync::OwnedRwLockWriteGuard<()>,
}

impl<V> Drop for Leading<'_, V> {
    fn drop(&mut self) {
        let mut shard = lock(self.cache.shard(self.key));
        if shard
            .loading
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            shard.loading.remove(&self.key);
        }
    }
}

/// What a request that found no answer does.
enum Miss<'a, V> {
    /// Waits for the load in flight, then looks again.
    Wait(Arc<tokio::sync::RwLock<()>>),
    /// Loads, as of the shard's epoch, for the others too when leading.
    Load(u64, Option<Leading<'a, V>>),
}

struct CacheInner<V> {
    feed: Arc<FeedInner>,
    follows: Vec<(Topic, On)>,
    per_shard: usize,
    max_age: Duration,
    shards: Box<[Mutex<Shard<V>>]>,
}

impl<V> CacheInner<V> {
    fn shard(&self, key: Uuid) -> &Mutex<Shard<V>> {
        let (_, low) = key.as_u64_pair();
        &self.shards[(low % SHARDS as u64) as usize]
    }

    /// How long `key`'s answer is served: between three quarters of `max_age` and all of it,
    /// by the key, so that answers loaded together (after a restart) do not expire together.
    fn lifetime(&self, key: Uuid) -> Duration {
        let (_, low) = key.as_u64_pair();
        let quarter = self.max_age / 4;
        self.max_age - quarter.mul_f64((low >> 48) as f64 / 65_536.0)
    }

    fn invalidate(&self, key: Uuid) {
        let mut shard = lock(self.shard(key));
        shard.epoch += 1;
        shard.answers.remove(&key);
    }
}

impl<V: Send> Sink for CacheInner<V> {
    fn changed(&self, topic: Topic, key: Option<Uuid>) {
        for (t, on) in &self.follows {
            if *t != topic {
                continue;
            }
            match (on, key) {
                (On::Key, Some(key)) => self.invalidate(key),
                _ => self.clear(),
            }
        }
    }

    fn clear(&self) {
        for shard in &self.shards {
            let mut shard = lock(shard);
            shard.epoch += 1;
            shard.answers.clear();
        }
    }
}

/// Answers by key that the change feed keeps right (see the module).
#[derive(Clone)]
pub struct Cached<V> {
    inner: Arc<CacheInner<V>>,
}

impl<V: Clone + Send + 'static> Cached<V> {
    /// The cached answer for `key`, or `load`'s, kept when nothing changed while it was read.
    /// Concurrent misses of one key share one load.
    pub async fn get_or_load<E, F>(&self, key: Uuid, load: impl FnOnce() -> F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        let inner = &*self.inner;
        if inner.max_age.is_zero() || !inner.feed.live() {
            return load().await;
        }
        let mut waited = false;
        let (epoch, leading) = loop {
            let miss = {
                let mut shard = lock(inner.shard(key));
                if let Some((v, until)) = shard.answers.get(&key)
                    && Instant::now() < *until
                {
                    return Ok(v.clone());
                }
                let epoch = shard.epoch;
                match shard.loading.get(&key) {
                    Some(flight) if !waited => Miss::Wait(flight.clone()),
                    // The load waited for kept nothing, and another is running: load alone.
                    Some(_) => Miss::Load(epoch, None),
                    None => {
                        let flight = Arc::new(tokio::sync::RwLock::new(()));
                        match flight.clone().try_write_owned() {
                            Ok(guard) => {
                                shard.loading.insert(key, flight.clone());
                                Miss::Load(
                                    epoch,
                                    Some(Leading {
                                        cache: inner,
                                        key,
                                        flight,
                                        _guard: guard,
                                    }),
                                )
                            }
                            Err(_) => Miss::Load(epoch, None),
                        }
                    }
                }
            };
            match miss {
                Miss::Wait(flight) => {
                    drop(flight.read().await);
                    waited = true;
                }
                Miss::Load(epoch, leading) => break (epoch, leading),
            }
        };
        let started = Instant::now();
        let v = load().await?;
        {
            let mut shard = lock(inner.shard(key));
            if shard.epoch == epoch && inner.feed.live() {
                if shard.answers.len() >= inner.per_shard {
                    shard.answers.clear();
                }
                shard
                    .answers
                    .insert(key, (v.clone(), started + inner.lifetime(key)));
            }
        }
        drop(leading);
        Ok(v)
    }

    /// Drops the answer for `key` in this cache.
    pub fn invalidate(&self, key: Uuid) {
        self.inner.invalidate(key);
    }

    /// Drops every answer of this cache.
    pub fn clear(&self) {
        self.inner.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(ids: &[i64]) -> Vec<FeedRow> {
        ids.iter().map(|id| (*id, "unread".into(), None)).collect()
    }

    fn ids(fresh: Vec<&FeedRow>) -> Vec<i64> {
        fresh.into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn a_row_committed_behind_one_already_read_is_read_once() {
        let t0 = Instant::now();
        // The window holds 3, 4 and 6: 5 is still being written.
        let mut c = Cursor::starting(&rows(&[3, 4, 6]), 6, t0);
        assert_eq!((c.high, c.gap_list().as_str()), (6, "5"));
        // 5 commits, then 7 and 9 come (8 still open).
        assert_eq!(ids(c.take(&rows(&[5, 7, 9]), t0)), [5, 7, 9]);
        assert_eq!((c.high, c.gap_list().as_str()), (9, "8"));
        // Read again (a row is never dispatched twice), then 8 comes.
        assert!(c.take(&rows(&[7, 9]), t0).is_empty());
        assert_eq!(ids(c.take(&rows(&[8, 10]), t0)), [8, 10]);
        assert_eq!((c.high, c.gap_list().as_str()), (10, ""));
    }

    #[test]
    fn a_gap_is_followed_for_the_lookback_only() {
        let t0 = Instant::now();
        let mut c = Cursor::starting(&[], 2, t0);
        assert_eq!((c.high, c.gap_list().as_str()), (2, ""));
        c.take(&rows(&[5]), t0);
        assert_eq!(c.gap_list(), "3,4");
        let later = t0 + Duration::from_secs(10);
        c.take(&rows(&[7]), later);
        c.expire(t0 + Duration::from_secs(31), Duration::from_secs(30));
        assert_eq!(c.gap_list(), "6");
    }

    #[test]
    fn a_window_whose_newest_rows_are_older_than_it_starts_after_the_highest_id() {
        let c = Cursor::starting(&rows(&[3]), 8, Instant::now());
        assert_eq!((c.high, c.gap_list().as_str()), (8, ""));
    }
}
