//! Inserting many rows, and many inserts at once.
//!
//! - **Many rows**: multi-row `INSERT` statements as large as the database's limit on bound
//!   parameters allows (SQLite 32,766, PostgreSQL 65,535), so a batch is a few statements. Few
//!   statements matter beyond round trips: over TLS on a loopback connection each statement
//!   larger than one TLS record can wait for a delayed ACK (sqlx writes one record per system
//!   call and does not set `TCP_NODELAY`), see bench/README.md, "Notifications".
//! - **Many inserts** ([`Batch`]): the rows an event writes and never reads back (the subject,
//!   its clocks, its timeline lines, notifications, mails) are collected while the use case
//!   runs and sent at its end; on PostgreSQL as one statement of data-modifying `WITH` parts,
//!   one round trip instead of one per table (see bench/README.md, "Issue 11: the submission
//!   in one write"). Its parts see one snapshot and run in no set order, so a batch holds only
//!   inserts that do not depend on each other's rows; foreign keys are checked at the end of
//!   the statement, so a clock may name the appeal inserted beside it.
//! - **Many use cases at once** ([`Combiner`], PostgreSQL): the batches of concurrent requests
//!   that need nothing else of a transaction are written together, one statement for up to
//!   [`MAX_COMBINED`] of them, outside any transaction, each statement guarded (see
//!   bench/README.md, "Issue 11: combined writes").

use std::{collections::HashMap, fmt::Write, sync::Arc};

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Iterable,
    QueryTrait, Statement, TransactionTrait, Value, Values,
    sea_query::{InsertStatement, PostgresQueryBuilder, Query, QueryStatementWriter, SimpleExpr},
};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// PostgreSQL's limit on the bound parameters of one statement.
const PG_PARAMETERS: usize = 65_535;

/// Rows of `columns` columns per statement on `backend`.
pub fn rows_per_statement(backend: DbBackend, columns: usize) -> usize {
    let parameters = match backend {
        DbBackend::Postgres => PG_PARAMETERS,
        _ => 32_766,
    };
    (parameters / columns.max(1)).max(1)
}

/// Inserts `rows` (every column set) in as few statements as the parameter limit allows;
/// returns how many.
pub async fn insert_all<A>(conn: &impl ConnectionTrait, rows: Vec<A>) -> Result<u64, DbErr>
where
    A: ActiveModelTrait,
{
    let n = rows.len() as u64;
    let mut batch = Batch::default();
    batch.insert_all(conn.get_database_backend(), rows);
    batch.run(conn).await?;
    Ok(n)
}

/// Inserts collected during a use case and written together at its end ([`Batch::run`], in
/// the use case's transaction): one statement on PostgreSQL (as many as the parameter limit
/// needs), one after the other on SQLite, which has no round trips to save.
#[derive(Debug, Default)]
pub struct Batch {
    inserts: Vec<InsertStatement>,
}

impl Batch {
    /// Adds one insert.
    pub fn push(&mut self, insert: impl QueryTrait<QueryStatement = InsertStatement>) {
        self.inserts.push(insert.into_query());
    }

    /// Adds `rows` (every column set), in statements of at most the parameter limit.
    pub fn insert_all<A>(&mut self, backend: DbBackend, rows: Vec<A>)
    where
        A: ActiveModelTrait,
    {
        let columns = <A::Entity as EntityTrait>::Column::iter().count();
        let per = rows_per_statement(backend, columns);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<A> = rows.by_ref().take(per).collect();
            let insert = <A::Entity as EntityTrait>::insert_many(chunk).into_query();
            self.inserts.push(insert);
        }
    }

    /// Writes what was added.
    pub async fn run(self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        if conn.get_database_backend() != DbBackend::Postgres {
            for insert in &self.inserts {
                conn.execute(insert).await?;
            }
            return Ok(());
        }
        for statement in combined(self.parts()?) {
            conn.execute_raw(statement).await?;
        }
        Ok(())
    }

    /// The inserts built for PostgreSQL, each once.
    fn parts(&self) -> Result<Vec<Part>, DbErr> {
        self.inserts.iter().map(Part::of).collect()
    }
}

/// One statement built for PostgreSQL: its text, its placeholders numbered from `$1`, and its
/// values. Statements of several parts are put together from the parts' texts with their
/// placeholders renumbered ([`joined`]), so an insert is built once however it is written (in
/// a batch, alone, or with other batches).
#[derive(Debug, Clone)]
struct Part {
    sql: String,
    values: Vec<Value>,
    /// Where its placeholders are in `sql`: `(start, end, n)` of each `$n`.
    placeholders: Arc<[(usize, usize, usize)]>,
}

impl Part {
    fn of(statement: &impl QueryStatementWriter) -> Result<Self, DbErr> {
        let (sql, values) = statement.build(PostgresQueryBuilder);
        // Every `$n` outside quotes is a placeholder, `$1` to the last value: what renumbering
        // relies on (true of sea-query's text; a custom expression could break it).
        let spans = placeholders(&sql);
        let highest = spans.iter().map(|(_, _, n)| *n).max().unwrap_or(0);
        if highest != values.0.len() || spans.iter().any(|(_, _, n)| *n == 0) {
            return Err(DbErr::Custom(format!(
                "bulk: {} values but placeholders up to ${highest} in {sql}",
                values.0.len(),
            )));
        }
        Ok(Self {
            sql,
            values: values.0,
            placeholders: spans.into(),
        })
    }
}

/// The bound parameters of `parts`.
fn parameters(parts: &[Part]) -> usize {
    parts.iter().map(|p| p.values.len()).sum()
}

/// The placeholders `$n` of `sql` outside quoted identifiers and string literals, as
/// `(start, end, n)`.
fn placeholders(sql: &str) -> Vec<(usize, usize, usize)> {
    let bytes = sql.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // A doubled quote inside closes and reopens: the scan stays right.
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            b'$' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i + 1;
                let mut n = 0usize;
                while let Some(d) = bytes.get(j).filter(|d| d.is_ascii_digit()) {
                    n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
                    j += 1;
                }
                spans.push((i, j, n));
                i = j;
            }
            _ => i += 1,
        }
    }
    spans
}

/// Appends `part`'s text to `out` with each placeholder `$n` written `$(n + offset)`.
fn renumbered_into(out: &mut String, part: &Part, offset: usize) {
    if offset == 0 {
        out.push_str(&part.sql);
        return;
    }
    let mut from = 0;
    for &(start, end, n) in part.placeholders.iter() {
        out.push_str(&part.sql[from..start]);
        out.push('$');
        push_number(out, n + offset);
        from = end;
    }
    out.push_str(&part.sql[from..]);
}

/// `n` in decimal, without the formatting machinery (a combined statement has hundreds).
fn push_number(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}

/// The most batches one combined statement writes. A routed submission's batch is about 4 KB
/// of statement text and parameters. Over TLS a statement of several 16 KB records can wait
/// about 40 ms on a loopback connection for a delayed ACK (see the module's first point):
/// groups of eight (about 35 KB) took 50 ms where groups of four took 7 ms.
pub const MAX_COMBINED: usize = 4;

/// Writes the batches of concurrent use cases together on PostgreSQL.
///
/// A use case that needs nothing of a transaction but the atomicity of its own writes (an
/// appeal submission without an idempotency key or attachments) reads what it needs outside a
/// transaction and hands its [`Batch`] here with a *guard*: an expression evaluated in the same
/// statement that fails it when what the batch was computed from has changed (the calendar:
/// `jobs::calendar::guard`). The combiner has a pool of its own, one connection per writer, so
/// that the requests' reads never hold its writes up. While every writer has a statement in
/// flight, batches queue; the next free writer takes up to [`MAX_COMBINED`] of them and writes
/// those of one shape (the same statement text alone, the same guard) in one statement of
/// `WITH` parts, in groups of a power of two so that each connection prepares a few statement
/// texts once. Each statement is atomic by itself; when one fails, each of its batches is
/// written again alone, so a batch gets its own answer (and a failing one fails no other). A
/// lone request waits for nothing: a writer is free and takes it at once.
#[derive(Clone)]
pub struct Combiner {
    queue: mpsc::UnboundedSender<Job>,
    db: DatabaseConnection,
}

/// One use case's batch waiting to be written.
struct Job {
    parts: Vec<Part>,
    guard: Option<Part>,
    /// What must be equal for two batches to be written together: their statement texts, and
    /// the guard with its values.
    shape: String,
    done: oneshot::Sender<Result<(), DbErr>>,
}

impl Job {
    /// The batch as a statement of its own.
    fn alone(&self) -> Statement {
        joined(self.parts.iter().cloned(), self.guard.clone())
    }
}

impl Combiner {
    /// Starts the combiner with `writers` statements in flight at most on `db`, a pool of its
    /// own with that many connections (needs a tokio runtime); it stops with the last clone.
    pub fn start(db: DatabaseConnection, writers: usize) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(combine(db.clone(), jobs, writers.max(1)));
        Self { queue, db }
    }

    /// Writes `batch` atomically, in one statement with `guard` (an expression that raises an
    /// error when the batch must not be written) and, when others queue beside it, with theirs.
    pub async fn write(&self, batch: Batch, guard: Option<SimpleExpr>) -> Result<(), DbErr> {
        let parts = batch.parts()?;
        if parts.is_empty() {
            return Ok(());
        }
        let guard = guard
            .map(|g| Part::of(&Query::select().expr(g).to_owned()))
            .transpose()?;
        if parameters(&parts) > PG_PARAMETERS {
            // More than one statement holds: in a transaction of its own.
            let txn = self.db.begin().await?;
            if let Some(g) = guard {
                txn.execute_raw(joined([], Some(g))).await?;
            }
            for statement in combined(parts) {
                txn.execute_raw(statement).await?;
            }
            return txn.commit().await;
        }
        let mut shape = String::with_capacity(parts.iter().map(|p| p.sql.len() + 1).sum());
        for part in parts.iter().chain(&guard) {
            shape.push_str(&part.sql);
            shape.push('\n');
        }
        if let Some(g) = &guard {
            let _ = write!(shape, "{:?}", g.values);
        }
        let (done, answer) = oneshot::channel();
        let job = Job {
            parts,
            guard,
            shape,
            done,
        };
        if let Err(mpsc::error::SendError(job)) = self.queue.send(job) {
            // The combiner has stopped (the runtime is shutting down): written here.
            return self
                .db
                .execute_raw(joined(job.parts, job.guard))
                .await
                .map(drop);
        }
        answer
            .await
            .map_err(|_| DbErr::Custom("the combined write was dropped".into()))?
    }
}

/// The combiner's loop: a free writer takes what has queued.
async fn combine(db: DatabaseConnection, mut queue: mpsc::UnboundedReceiver<Job>, writers: usize) {
    let writers = Arc::new(Semaphore::new(writers));
    loop {
        let Ok(writer) = writers.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = queue.recv().await else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_COMBINED {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let db = db.clone();
        tokio::spawn(async move {
            write_jobs(&db, jobs).await;
            drop(writer);
        });
    }
}

/// Writes `jobs`: those of one shape together, in groups of a power of two.
async fn write_jobs(db: &DatabaseConnection, jobs: Vec<Job>) {
    let mut shapes: HashMap<String, Vec<Job>> = HashMap::new();
    let mut order = Vec::new();
    for job in jobs {
        let same = shapes.entry(job.shape.clone()).or_default();
        if same.is_empty() {
            order.push(job.shape.clone());
        }
        same.push(job);
    }
    for shape in order {
        let mut same = shapes.remove(&shape).unwrap_or_default();
        let per_job = parameters(&same[0].parts).max(1);
        let most = MAX_COMBINED.min(PG_PARAMETERS / per_job).max(1);
        while !same.is_empty() {
            let n = group_size(same.len(), most);
            let group: Vec<Job> = same.drain(..n).collect();
            write_group(db, group).await;
        }
    }
}

/// The largest power of two at most `queued` and `most`.
fn group_size(queued: usize, most: usize) -> usize {
    let n = queued.min(most).max(1);
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// One statement for `group`; each batch again alone when it fails.
async fn write_group(db: &DatabaseConnection, mut group: Vec<Job>) {
    if group.len() == 1 {
        let job = group.remove(0);
        let _ = job
            .done
            .send(db.execute_raw(joined(job.parts, job.guard)).await.map(drop));
        return;
    }
    // The batches' parts, kept for a second try alone; the shared guard once, at the end.
    let parts = group.iter().flat_map(|j| j.parts.iter().cloned());
    let statement = joined(parts, group[0].guard.clone());
    let started = std::time::Instant::now();
    let written = db.execute_raw(statement).await;
    tracing::debug!(
        batches = group.len(),
        micros = started.elapsed().as_micros() as u64,
        "combined write"
    );
    match written {
        Ok(_) => {
            for job in group {
                let _ = job.done.send(Ok(()));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, batches = group.len(), "a combined write failed; each batch alone");
            for job in group {
                let written = db.execute_raw(job.alone()).await.map(drop);
                let _ = job.done.send(written);
            }
        }
    }
}

/// `parts` as PostgreSQL statements of `WITH` parts, each under the parameter limit: every part
/// but the last of a statement is a `WITH` part, the last its main query.
fn combined(parts: Vec<Part>) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut statement: Vec<Part> = Vec::new();
    let mut parameters = 0;
    for part in parts {
        let n = part.values.len();
        if !statement.is_empty() && parameters + n > PG_PARAMETERS {
            out.push(joined(std::mem::take(&mut statement), None));
            parameters = 0;
        }
        parameters += n;
        statement.push(part);
    }
    if !statement.is_empty() {
        out.push(joined(statement, None));
    }
    out
}

/// `parts` as one statement: each but the last a `WITH` part, the last the main query; with a
/// `guard`, every part is a `WITH` part and the guard is the main query. The parts' texts are
/// put together, their placeholders renumbered in order.
fn joined(parts: impl IntoIterator<Item = Part>, guard: Option<Part>) -> Statement {
    let parts: Vec<Part> = parts.into_iter().chain(guard.clone()).collect();
    let main = parts.len().saturating_sub(1);
    let mut sql = String::with_capacity(parts.iter().map(|p| p.sql.len() + 16).sum());
    let mut values = Vec::with_capacity(parameters(&parts));
    for (i, part) in parts.into_iter().enumerate() {
        if i < main {
            sql.push_str(if i == 0 { "WITH w" } else { ", w" });
            push_number(&mut sql, i);
            sql.push_str(" AS (");
        } else if main > 0 {
            sql.push(' ');
        }
        renumbered_into(&mut sql, &part, values.len());
        values.extend(part.values);
        if i < main {
            sql.push(')');
        }
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, Values(values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Expr};

    fn insert(table: &str, values: &[i64]) -> InsertStatement {
        let mut q = Query::insert();
        q.into_table(Alias::new(table)).columns([Alias::new("n")]);
        for v in values {
            q.values_panic([(*v).into()]);
        }
        q
    }

    fn parts(inserts: &[InsertStatement]) -> Vec<Part> {
        inserts.iter().map(|i| Part::of(i).expect("part")).collect()
    }

    #[test]
    fn inserts_go_as_one_statement_of_with_parts() {
        let statements = combined(parts(&[
            insert("a", &[1, 2]),
            insert("b", &[3]),
            insert("c", &[4]),
        ]));
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].sql,
            r#"WITH w0 AS (INSERT INTO "a" ("n") VALUES ($1), ($2)), w1 AS (INSERT INTO "b" ("n") VALUES ($3)) INSERT INTO "c" ("n") VALUES ($4)"#
        );
        let values = statements[0].values.as_ref().map(|v| v.0.clone());
        assert_eq!(
            values,
            Some([1i64, 2, 3, 4].map(Value::from).to_vec()),
            "in the placeholders' order"
        );
        let one = combined(parts(&[insert("a", &[1])]));
        assert_eq!(one[0].sql, r#"INSERT INTO "a" ("n") VALUES ($1)"#);
        // Past the parameter limit: two statements.
        let big: Vec<i64> = (0..40_000).collect();
        let split = combined(parts(&[
            insert("a", &big),
            insert("b", &big),
            insert("c", &[1]),
        ]));
        assert_eq!(split.len(), 2);
        assert!(split[1].sql.starts_with(r#"WITH w0 AS (INSERT INTO "b""#));
        assert!(
            split[1]
                .sql
                .ends_with(r#"INSERT INTO "c" ("n") VALUES ($40001)"#)
        );
    }

    #[test]
    fn a_guarded_statement_writes_every_insert_as_a_part_and_selects_the_guard() {
        let guard = Expr::cust_with_values("calendar_revision_is($1)", [7i64]);
        let guard = Part::of(&Query::select().expr(guard).to_owned()).expect("guard");
        let q = insert("a", &[1]);
        let s = joined(parts(&[q.clone(), q.clone()]), Some(guard.clone()));
        assert_eq!(
            s.sql,
            r#"WITH w0 AS (INSERT INTO "a" ("n") VALUES ($1)), w1 AS (INSERT INTO "a" ("n") VALUES ($2)) SELECT calendar_revision_is($3)"#
        );
        assert_eq!(
            s.values.map(|v| v.0),
            Some([1i64, 1, 7].map(Value::from).to_vec())
        );
        let one = joined(parts(&[q]), Some(guard));
        assert_eq!(
            one.sql,
            r#"WITH w0 AS (INSERT INTO "a" ("n") VALUES ($1)) SELECT calendar_revision_is($2)"#
        );
    }

    #[test]
    fn renumbering_leaves_quoted_text_alone_and_refuses_a_text_it_cannot_number() {
        let sql = r#"INSERT INTO "a$1" ("n", "m") VALUES ($1, 'it''s $2'), ($2, $10)"#;
        let part = Part {
            sql: sql.into(),
            values: Vec::new(),
            placeholders: placeholders(sql).into(),
        };
        let mut out = String::new();
        renumbered_into(&mut out, &part, 99);
        assert_eq!(
            out,
            r#"INSERT INTO "a$1" ("n", "m") VALUES ($100, 'it''s $2'), ($101, $109)"#
        );
        // A `$n` written into a custom expression's text is not one of the values.
        let odd = Query::select().expr(Expr::cust("f($5)")).to_owned();
        assert!(Part::of(&odd).is_err());
        let mut n = String::new();
        for i in [0, 7, 10, 65_535] {
            push_number(&mut n, i);
            n.push(' ');
        }
        assert_eq!(n, "0 7 10 65535 ");
    }

    #[test]
    fn groups_are_the_largest_power_of_two_that_fits() {
        assert_eq!(group_size(1, 16), 1);
        assert_eq!(group_size(3, 16), 2);
        assert_eq!(group_size(7, 4), 4);
        assert_eq!(group_size(16, 16), 16);
        assert_eq!(group_size(40, 16), 16);
        assert_eq!(group_size(5, 3), 2);
        assert_eq!(group_size(0, 4), 1);
    }

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        assert_eq!(rows_per_statement(DbBackend::Sqlite, 9), 3_640);
        assert_eq!(rows_per_statement(DbBackend::Postgres, 15), 4_369);
        assert!(rows_per_statement(DbBackend::Postgres, 15) * 15 <= 65_535);
        assert_eq!(rows_per_statement(DbBackend::Sqlite, 0), 32_766);
    }
}
