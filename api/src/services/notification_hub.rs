//! Live notifications for `GET /notifications/stream` (server-sent events), across processes.
//!
//! Notifications are written by whichever process has the event (this api, another api behind
//! the load balancer, the `jobs` process), so each api process learns of them from the database:
//! ONE poller per process, running only while the process has open streams, reads the ids of
//! the notifications created in the last `NOTIFICATION_LOOKBACK_SECS` (a range of the primary
//! key: UUID v7 ids start with their creation time), skips those it has already seen, loads the
//! new ones of users with a stream here, and hands each to that user's streams. Its cost is one
//! small index range per `NOTIFICATION_POLL_MS`, whatever the number of streams.
//!
//! Why not `WHERE id > last_seen`: ids are taken when a transaction writes, not when it
//! commits, so a transaction that commits after a later one makes a row appear *behind* the
//! last id seen. Re-reading a window and remembering what was seen delivers such a row at the
//! next poll, as long as its transaction committed within the window. Why not PostgreSQL's
//! `LISTEN/NOTIFY`: SQLite (the embedded default, and every test) needs the poll anyway, and
//! the PostgreSQL-compatible engines the design plans for past one server do not offer it.

use crate::{
    auth::{jwt::Claims, session::Sessions},
    services::notifications::NotificationView,
};
use actix_web::web::Bytes;
use entity::{clock::Clock, notification};
use futures::Stream;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::{
    collections::{BTreeSet, HashMap, HashSet, VecDeque},
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Events buffered per stream; a stream that falls this far behind is closed (its client
/// reconnects with `Last-Event-ID` and replays what it missed).
const STREAM_BUFFER: usize = 64;
/// Rows per query when loading new notifications or replaying missed ones.
const PAGE: u64 = 200;

/// One notification as a stream sends it: its id and its JSON (the list item's shape).
#[derive(Debug)]
pub struct Event {
    pub id: Uuid,
    pub data: String,
}

impl Event {
    fn of(n: notification::Model) -> Self {
        let id = n.id;
        // A view of plain strings, ids and instants always serializes.
        let data = serde_json::to_string(&NotificationView::from(n)).unwrap_or_default();
        Self { id, data }
    }

    /// The SSE frame: `id:` and `data:` lines and a blank line.
    fn frame(&self) -> Bytes {
        Bytes::from(format!("id: {}\ndata: {}\n\n", self.id, self.data))
    }
}

/// The per-process fan-out of new notifications to the streams open here.
#[derive(Clone)]
pub struct NotificationHub {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    poll_every: Duration,
    lookback: Duration,
    streams: Mutex<Streams>,
    poller: tokio::sync::Mutex<Poller>,
    /// Set when the process shuts down: streams end, new ones end after their replay.
    closed: AtomicBool,
}

/// A stream's registration number and the sending end of its buffer.
type Registered = (u64, mpsc::Sender<Arc<Event>>);

#[derive(Default)]
struct Streams {
    next: u64,
    by_user: HashMap<Uuid, Vec<Registered>>,
}

impl Streams {
    fn is_empty(&self) -> bool {
        self.by_user.is_empty()
    }

    fn remove(&mut self, user: Uuid, id: u64) {
        if let Some(list) = self.by_user.get_mut(&user) {
            list.retain(|(i, _)| *i != id);
            if list.is_empty() {
                self.by_user.remove(&user);
            }
        }
    }
}

#[derive(Default)]
struct Poller {
    running: bool,
    /// Ids of the window already handled, delivered or not.
    seen: BTreeSet<Uuid>,
}

/// A stream's registration: new notifications of its user arrive on `events`; dropping it
/// unregisters.
pub struct Subscription {
    pub events: mpsc::Receiver<Arc<Event>>,
    user: Uuid,
    id: u64,
    inner: Arc<Inner>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut streams) = self.inner.streams.lock() {
            streams.remove(self.user, self.id);
        }
    }
}

/// The smallest UUID v7 of instant `at`: ids greater than it were created at or after `at`.
fn lower_bound(at: SystemTime) -> Uuid {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    Uuid::from_bytes(bytes)
}

impl NotificationHub {
    /// A hub reading `db` every `poll_every` while streams are open, `lookback` far back.
    pub fn new(db: DatabaseConnection, poll_every: Duration, lookback: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                poll_every: poll_every.max(Duration::from_millis(10)),
                lookback,
                streams: Mutex::new(Streams::default()),
                poller: tokio::sync::Mutex::new(Poller::default()),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// Streams open in this process.
    pub fn open_streams(&self) -> usize {
        self.inner
            .streams
            .lock()
            .map(|s| s.by_user.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Ends every stream of this process (at shutdown, so the server need not wait for them):
    /// clients reconnect, to another instance, with `Last-Event-ID`.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        if let Ok(mut streams) = self.inner.streams.lock() {
            streams.by_user.clear();
        }
    }

    /// Registers a stream of `user`: every notification of theirs that commits from now on
    /// arrives on the subscription. Starts the poller if this process had no stream.
    pub async fn subscribe(&self, user: Uuid) -> Result<Subscription, DbErr> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::SeqCst) {
            // Shutting down: the stream ends after its replay.
            let (_, rx) = mpsc::channel(1);
            return Ok(Subscription {
                events: rx,
                user,
                id: 0,
                inner: inner.clone(),
            });
        }
        let mut poller = inner.poller.lock().await;
        if !poller.running {
            // What is in the window now is older than this stream: seen, not delivered.
            poller.seen = inner
                .window()
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            poller.running = true;
            tokio::spawn(run(inner.clone()));
        }
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let id = {
            let mut streams = inner
                .streams
                .lock()
                .map_err(|_| DbErr::Custom("notification streams lock poisoned".into()))?;
            streams.next += 1;
            let id = streams.next;
            streams.by_user.entry(user).or_default().push((id, tx));
            id
        };
        drop(poller);
        Ok(Subscription {
            events: rx,
            user,
            id,
            inner: inner.clone(),
        })
    }
}

impl Inner {
    /// (id, user) of every notification created within the lookback window.
    async fn window(&self) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
        let bound = lower_bound(SystemTime::now() - self.lookback);
        notification::Entity::find()
            .select_only()
            .columns([notification::Column::Id, notification::Column::UserId])
            .filter(notification::Column::Id.gt(bound))
            .into_tuple()
            .all(&self.db)
            .await
    }

    /// One look: delivers what committed since the last one.
    async fn poll(&self, poller: &mut Poller) -> Result<(), DbErr> {
        let bound = lower_bound(SystemTime::now() - self.lookback);
        let window = self.window().await?;
        poller.seen = poller.seen.split_off(&bound);
        let fresh: Vec<(Uuid, Uuid)> = window
            .into_iter()
            .filter(|(id, _)| !poller.seen.contains(id))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let wanted: Vec<Uuid> = {
            let streams = self
                .streams
                .lock()
                .map_err(|_| DbErr::Custom("notification streams lock poisoned".into()))?;
            fresh
                .iter()
                .filter(|(_, user)| streams.by_user.contains_key(user))
                .map(|(id, _)| *id)
                .collect()
        };
        let mut rows = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(PAGE as usize) {
            rows.extend(
                notification::Entity::find()
                    .filter(notification::Column::Id.is_in(chunk.to_vec()))
                    .all(&self.db)
                    .await?,
            );
        }
        // Marked seen only once loaded: a failed look is retried whole at the next one.
        poller.seen.extend(fresh.iter().map(|(id, _)| *id));
        rows.sort_by_key(|n| n.id);
        let mut streams = self
            .streams
            .lock()
            .map_err(|_| DbErr::Custom("notification streams lock poisoned".into()))?;
        for row in rows {
            let user = row.user_id;
            let Some(list) = streams.by_user.get_mut(&user) else {
                continue;
            };
            let event = Arc::new(Event::of(row));
            // A stream whose buffer is full is dropped: its client reconnects and replays.
            list.retain(|(_, tx)| tx.try_send(event.clone()).is_ok());
            if list.is_empty() {
                streams.by_user.remove(&user);
            }
        }
        Ok(())
    }
}

/// The poller: looks every `poll_every` until the process has no stream left.
async fn run(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.poll_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut poller = inner.poller.lock().await;
        let idle = inner.streams.lock().map(|s| s.is_empty()).unwrap_or(true);
        if idle {
            poller.running = false;
            poller.seen.clear();
            return;
        }
        if let Err(e) = inner.poll(&mut poller).await {
            tracing::warn!(error = %e, "looking for new notifications failed; retrying");
        }
    }
}

/// What a stream needs besides its subscription.
pub struct StreamContext {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub sessions: Sessions,
    /// The access token's claims: the stream ends when it expires or its session ends.
    pub claims: Claims,
    pub heartbeat: Duration,
}

struct StreamState {
    ctx: StreamContext,
    subscription: Subscription,
    /// The replay after `Last-Event-ID`: the last id sent and whether more may follow.
    replay: Option<(Uuid, bool)>,
    pending: VecDeque<Event>,
    /// Replayed ids, not to be sent again when they also arrive live.
    replayed: HashSet<Uuid>,
    heartbeat: tokio::time::Interval,
}

/// The SSE body of one stream: first the user's notifications after `last_event_id` (oldest
/// first), then each new one as it commits, and a `: keep-alive` comment every heartbeat.
pub fn event_stream(
    ctx: StreamContext,
    subscription: Subscription,
    last_event_id: Option<Uuid>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    let start = tokio::time::Instant::now() + ctx.heartbeat;
    let state = StreamState {
        heartbeat: tokio::time::interval_at(start, ctx.heartbeat.max(Duration::from_millis(10))),
        ctx,
        subscription,
        replay: last_event_id.map(|id| (id, true)),
        pending: VecDeque::new(),
        replayed: HashSet::new(),
    };
    futures::stream::unfold(state, |mut st| async move {
        let frame = st.next_frame().await?;
        Some((Ok(frame), st))
    })
}

impl StreamState {
    /// The next bytes to send; `None` ends the stream.
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event.frame());
            }
            if let Some((after, true)) = self.replay {
                match self.missed(after).await {
                    Ok(rows) => {
                        let more = rows.len() as u64 == PAGE;
                        let last = rows.last().map_or(after, |n| n.id);
                        for n in rows {
                            self.replayed.insert(n.id);
                            self.pending.push_back(Event::of(n));
                        }
                        self.replay = Some((last, more));
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "replaying missed notifications failed");
                        return None;
                    }
                }
            }
            tokio::select! {
                event = self.subscription.events.recv() => {
                    let event = event?;
                    if self.replayed.remove(&event.id) {
                        continue;
                    }
                    return Some(event.frame());
                }
                _ = self.heartbeat.tick() => {
                    if !self.alive().await {
                        return None;
                    }
                    return Some(Bytes::from_static(b": keep-alive\n\n"));
                }
            }
        }
    }

    /// A page of the user's notifications after `after`, oldest first.
    async fn missed(&self, after: Uuid) -> Result<Vec<notification::Model>, DbErr> {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(self.subscription.user))
            .filter(notification::Column::Id.gt(after))
            .order_by_asc(notification::Column::Id)
            .limit(PAGE)
            .all(&self.ctx.db)
            .await
    }

    /// Whether the token is unexpired and its session alive (a database error keeps it open).
    async fn alive(&self) -> bool {
        if self.ctx.clock.now().timestamp() >= self.ctx.claims.exp {
            return false;
        }
        self.ctx
            .sessions
            .alive(&self.ctx.db, &self.ctx.claims)
            .await
            .unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bound_orders_before_every_id_of_its_millisecond_and_after_older_ones() {
        let now = SystemTime::now();
        let bound = lower_bound(now);
        let id = Uuid::now_v7();
        assert!(id > bound);
        assert!(lower_bound(now - Duration::from_secs(1)) < bound);
        assert!(lower_bound(now + Duration::from_secs(1)) > id);
    }
}
