//! The runner: named jobs with schedules, run under leases, recorded in `job_runs`.
//!
//! A scheduled slot runs at most once: the process that holds the job's lease inserts the slot's
//! `job_runs` row, and a unique index on `(job, slot)` refuses a second one whatever the leases
//! say. Only the latest passed slot is due, so slots missed while every process was down collapse
//! into one run. A `running` row left by a process whose lease expired is taken over and run again.

use crate::{
    JobsConfig, Schedule,
    calendar::CalendarLoader,
    lease,
    mail::{self, Mailer, Template},
    notify::{Audience, Mail, Notice, Object, notify},
};
use chrono::{DateTime, Utc};
use entity::{
    calendar::Calendar,
    clock::Clock,
    enums::{NotificationKind, Role},
    job_run::{self, COLUMN as R, RunStatus, Trigger},
};
use futures::{FutureExt, future::BoxFuture};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait,
};
use std::{collections::HashMap, future::Future, panic::AssertUnwindSafe, sync::Arc};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

/// What every job step gets: the database, time, settings, the mail transport, the calendar.
#[derive(Clone)]
pub struct JobContext {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<JobsConfig>,
    pub mailer: Mailer,
    pub calendar: CalendarLoader,
    /// Where documents' bytes are kept.
    pub files: crate::files::FileStore,
}

impl JobContext {
    /// A context with the transport the mail settings name.
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        config: JobsConfig,
    ) -> anyhow::Result<Self> {
        let mailer = Mailer::from_config(&config.mail)?;
        let files = crate::files::FileStore::open(&config.files.store)?;
        Ok(Self {
            db,
            clock,
            config: Arc::new(config),
            mailer,
            calendar: CalendarLoader::default(),
            files,
        })
    }
}

type StepFn =
    Arc<dyn Fn(JobContext, DateTime<Utc>) -> BoxFuture<'static, anyhow::Result<u64>> + Send + Sync>;

/// A named job: a schedule and one step returning the number of items it processed.
#[derive(Clone)]
pub struct Job {
    pub name: String,
    pub schedule: Schedule,
    step: StepFn,
}

impl Job {
    /// A job whose step is `step(ctx, now)`.
    pub fn new<F, Fut>(name: impl Into<String>, schedule: Schedule, step: F) -> Self
    where
        F: Fn(JobContext, DateTime<Utc>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
    {
        Self {
            name: name.into(),
            schedule,
            step: Arc::new(move |ctx, now| step(ctx, now).boxed()),
        }
    }
}

/// The jobs of a Liantong process.
pub fn default_jobs(config: &JobsConfig) -> Vec<Job> {
    vec![
        Job::new(
            mail::dispatch::JOB,
            Schedule::Every(config.dispatch_every),
            |ctx, now| async move { mail::dispatch::run_once(&ctx, now).await },
        ),
        Job::new(
            crate::prune::JOB,
            Schedule::DailyAt(chrono::NaiveTime::from_hms_opt(3, 30, 0).unwrap_or_default()),
            |ctx, now| async move { crate::prune::run_once(&ctx, now).await },
        ),
        Job::new(
            crate::sla_monitor::JOB,
            Schedule::Every(config.sla_monitor_every),
            |ctx, now| async move { crate::sla_monitor::run_once(&ctx, now).await },
        ),
        Job::new(
            crate::credit_lines::JOB,
            Schedule::DailyAt(chrono::NaiveTime::from_hms_opt(0, 30, 0).unwrap_or_default()),
            |ctx, now| async move { crate::credit_lines::run_once(&ctx, now).await },
        ),
        Job::new(
            crate::bank_reports::JOB,
            Schedule::MonthlyFirstWorkingDayAt(
                chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            ),
            |ctx, now| async move { crate::bank_reports::run_once(&ctx, now).await },
        ),
        Job::new(
            crate::funds::windows::JOB,
            Schedule::Every(config.sla_monitor_every),
            |ctx, now| async move { crate::funds::windows::run_once(&ctx, now).await },
        ),
        Job::new(
            crate::files::orphans::JOB,
            Schedule::Every(chrono::TimeDelta::hours(1)),
            |ctx, now| async move { crate::files::orphans::run_once(&ctx, now).await },
        ),
        Job::new(
            crate::funds::notices::JOB,
            Schedule::Every(config.sla_monitor_every),
            |ctx, now| async move { crate::funds::notices::run_once(&ctx, now).await },
        ),
    ]
}

/// What one look at a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No slot is due (or it already ran).
    NotDue,
    /// Another process (or task) holds the lease.
    Busy,
    /// The run happened; its final row.
    Ran(job_run::Model),
}

/// A job could not be run now.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no job is named {0}")]
    UnknownJob(String),
    #[error("job {0} is running")]
    Busy(String),
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// One job's state for the admin list.
#[derive(Debug, Clone)]
pub struct JobStatus {
    pub name: String,
    pub schedule: String,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_status: Option<RunStatus>,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Runs jobs under leases; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    ctx: JobContext,
    owner: String,
    jobs: Arc<Vec<Job>>,
    /// One run per job at a time inside this process (the loop and `run_now` share the lease).
    running: Arc<HashMap<String, Mutex<()>>>,
}

impl Runner {
    /// A runner for `jobs`, owning leases as `ctx.config.owner`.
    pub fn new(ctx: JobContext, jobs: Vec<Job>) -> Self {
        let owner = ctx.config.owner.clone();
        let running = jobs
            .iter()
            .map(|j| (j.name.clone(), Mutex::new(())))
            .collect();
        Self {
            ctx,
            owner,
            jobs: Arc::new(jobs),
            running: Arc::new(running),
        }
    }

    /// The same jobs under another owner id (tests run two "processes" in one).
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self.running = Arc::new(
            self.jobs
                .iter()
                .map(|j| (j.name.clone(), Mutex::new(())))
                .collect(),
        );
        self
    }

    /// The lease owner id of this runner.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The context handed to steps.
    pub fn context(&self) -> &JobContext {
        &self.ctx
    }

    /// The jobs, in registration order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }

    /// Looks at every job once at the clock's current time and runs the due ones.
    pub async fn tick(&self) -> anyhow::Result<Vec<(String, Outcome)>> {
        let now = self.ctx.clock.now();
        let cal = self.ctx.calendar.current(&self.ctx.db).await?;
        let looks = self.jobs.iter().map(|job| {
            let cal = cal.clone();
            async move { (job.name.clone(), self.run_due(job, &cal, now).await) }
        });
        let mut out = vec![];
        for (name, res) in futures::future::join_all(looks).await {
            out.push((name, res?));
        }
        Ok(out)
    }

    /// Runs `job`'s latest passed slot if it has not run yet.
    async fn run_due(
        &self,
        job: &Job,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Outcome> {
        let Some(slot) = job.schedule.last_slot(cal, now) else {
            return Ok(Outcome::NotDue);
        };
        let db = &self.ctx.db;
        // Cheap look without the lease: a finished slot needs nothing.
        if let Some(r) = slot_row(db, &job.name, slot).await?
            && r.status != RunStatus::Running
        {
            return Ok(Outcome::NotDue);
        }
        let Some(_guard) = self.running.get(&job.name).and_then(|m| m.try_lock().ok()) else {
            return Ok(Outcome::Busy);
        };
        if !lease::acquire(db, &job.name, &self.owner, now, self.ctx.config.lease_ttl).await? {
            return Ok(Outcome::Busy);
        }
        let outcome = self.run_slot_leased(job, slot, now).await;
        let released = lease::release(db, &job.name, &self.owner, self.ctx.clock.now()).await;
        let outcome = outcome?;
        released?;
        Ok(outcome)
    }

    async fn run_slot_leased(
        &self,
        job: &Job,
        slot: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Outcome> {
        let db = &self.ctx.db;
        let row = match slot_row(db, &job.name, slot).await? {
            Some(r) if r.status != RunStatus::Running => return Ok(Outcome::NotDue),
            // We hold the lease, so whoever started this run lost theirs: take it over.
            Some(r) => {
                tracing::warn!(job = %job.name, %slot, previous_owner = %r.owner, "taking over an abandoned run");
                let attempts = r.attempts + 1;
                let mut am: job_run::ActiveModel = r.into();
                am.owner = Set(self.owner.clone());
                am.attempts = Set(attempts);
                am.started_at = Set(now);
                am.update(db).await?
            }
            None => {
                match insert_run(db, &job.name, slot, Trigger::Schedule, &self.owner, now).await {
                    Ok(r) => r,
                    Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                        return Ok(Outcome::NotDue);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(Outcome::Ran(self.execute(job, row, now).await?))
    }

    /// Runs `name` now, outside its schedule (`POST /jobs/{name}/run`).
    pub async fn run_now(&self, name: &str) -> Result<job_run::Model, RunError> {
        let job = self
            .job(name)
            .ok_or_else(|| RunError::UnknownJob(name.into()))?;
        let _guard = self
            .running
            .get(name)
            .and_then(|m| m.try_lock().ok())
            .ok_or_else(|| RunError::Busy(name.into()))?;
        let now = self.ctx.clock.now();
        let db = &self.ctx.db;
        if !lease::acquire(db, name, &self.owner, now, self.ctx.config.lease_ttl).await? {
            return Err(RunError::Busy(name.into()));
        }
        let res = async {
            let row = insert_run(db, name, now, Trigger::Manual, &self.owner, now).await?;
            Ok::<_, RunError>(self.execute(job, row, now).await?)
        }
        .await;
        lease::release(db, name, &self.owner, self.ctx.clock.now()).await?;
        res
    }

    /// Runs the step (renewing the lease meanwhile), catches errors and panics, records the end.
    async fn execute(
        &self,
        job: &Job,
        row: job_run::Model,
        now: DateTime<Utc>,
    ) -> anyhow::Result<job_run::Model> {
        let span = tracing::info_span!("job", job = %job.name, slot = %row.slot, run = %row.id);
        let step =
            AssertUnwindSafe((job.step)(self.ctx.clone(), now).instrument(span)).catch_unwind();
        tokio::pin!(step);
        let every = (self.ctx.config.lease_ttl / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(10));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let result = loop {
            tokio::select! {
                r = &mut step => break r,
                _ = renew.tick() => {
                    match lease::renew(&self.ctx.db, &job.name, &self.owner, self.ctx.clock.now(), self.ctx.config.lease_ttl).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = %job.name, "lease lost while running"),
                        Err(e) => tracing::warn!(job = %job.name, error = %e, "cannot renew lease"),
                    }
                }
            }
        };
        let (status, items, error) = match result {
            Ok(Ok(items)) => (RunStatus::Succeeded, items, None),
            Ok(Err(e)) => (RunStatus::Failed, 0, Some(format!("{e:#}"))),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                (RunStatus::Failed, 0, Some(format!("panicked: {msg}")))
            }
        };
        let finished = self.ctx.clock.now();
        match &error {
            // A step that found nothing to do is not news: a quiet console for newcomers.
            None if items == 0 => tracing::debug!(job = %job.name, "job run found nothing to do"),
            None => tracing::info!(job = %job.name, items, "job run succeeded"),
            Some(e) => tracing::error!(job = %job.name, error = %e, "job run failed"),
        }
        // The history row and the admin's mail commit together.
        let txn = self.ctx.db.begin().await?;
        let mut am: job_run::ActiveModel = row.clone().into();
        am.status = Set(status);
        am.finished_at = Set(Some(finished));
        am.items = Set(i64::try_from(items).unwrap_or(i64::MAX));
        am.error = Set(error.clone());
        let done = am.update(&txn).await?;
        if let Some(error) = error {
            let tz = self
                .ctx
                .calendar
                .current(&txn)
                .await
                .map(|c| c.settings().time_zone)
                .unwrap_or(chrono_tz::Asia::Shanghai);
            let template = Template::JobFailed {
                job: job.name.clone(),
                slot: done
                    .slot
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string(),
                started_at: done
                    .started_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string(),
                error: mail::templates::wrap_lines(&error, 200, 4000),
            };
            // Every active admin is told in the app; the mail goes to `ADMIN_EMAIL` when set,
            // else to each admin's own address.
            notify(
                &txn,
                finished,
                Audience::Role(Role::Admin),
                Notice::new(
                    NotificationKind::JobFailed,
                    Some(Object::job_run(done.id)),
                    format!("后台任务“{}”运行失败", job.name),
                    mail::templates::wrap_lines(&error, 200, 2000),
                ),
                Some(Mail::now(template).to(self.ctx.config.admin_email.clone())),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(done)
    }

    /// Each job with its last run and next slot.
    pub async fn statuses(&self) -> anyhow::Result<Vec<JobStatus>> {
        let now = self.ctx.clock.now();
        let cal = self.ctx.calendar.current(&self.ctx.db).await?;
        let mut out = vec![];
        for job in self.jobs.iter() {
            let last = job_run::Entity::find()
                .filter(R.job.eq(&job.name))
                .order_by_desc(job_run::Column::StartedAt)
                .one(&self.ctx.db)
                .await?;
            // A passed slot that has not run yet is the next run.
            let next_run_at = match job.schedule.last_slot(&cal, now) {
                Some(slot) if slot_row(&self.ctx.db, &job.name, slot).await?.is_none() => {
                    Some(slot)
                }
                _ => job.schedule.next_slot(&cal, now),
            };
            out.push(JobStatus {
                name: job.name.clone(),
                schedule: job.schedule.describe(cal.settings().time_zone),
                last_started_at: last.as_ref().map(|r| r.started_at),
                last_finished_at: last.as_ref().and_then(|r| r.finished_at),
                last_status: last.map(|r| r.status),
                next_run_at,
            });
        }
        Ok(out)
    }

    /// The loop: one task per job looks for a due slot every `tick`; on `cancel` each finishes
    /// its current step, then the leases are released.
    pub async fn run(self, cancel: CancellationToken) {
        tracing::info!(owner = %self.owner, jobs = self.jobs.len(), "job runner started");
        let mut tasks = tokio::task::JoinSet::new();
        for job in self.jobs.iter().cloned() {
            let me = self.clone();
            let cancel = cancel.clone();
            tasks.spawn(async move {
                loop {
                    let now = me.ctx.clock.now();
                    let res = async {
                        let cal = me.ctx.calendar.current(&me.ctx.db).await?;
                        me.run_due(&job, &cal, now).await
                    }
                    .await;
                    if let Err(e) = res {
                        tracing::warn!(job = %job.name, error = %format!("{e:#}"), "job look failed");
                    }
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(me.ctx.config.tick) => {}
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        match lease::release_all(&self.ctx.db, &self.owner, self.ctx.clock.now()).await {
            Ok(n) => tracing::info!(owner = %self.owner, released = n, "job runner stopped"),
            Err(e) => tracing::warn!(error = %e, "cannot release leases"),
        }
    }
}

async fn slot_row(
    conn: &impl ConnectionTrait,
    job: &str,
    slot: DateTime<Utc>,
) -> Result<Option<job_run::Model>, DbErr> {
    job_run::Entity::find()
        .filter(R.job.eq(job))
        .filter(R.slot.eq(slot))
        .filter(R.trigger.eq(Trigger::Schedule))
        .one(conn)
        .await
}

async fn insert_run(
    conn: &impl ConnectionTrait,
    job: &str,
    slot: DateTime<Utc>,
    trigger: Trigger,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<job_run::Model, DbErr> {
    job_run::ActiveModel {
        id: Set(Uuid::now_v7()),
        job: Set(job.to_string()),
        slot: Set(slot),
        trigger: Set(trigger),
        owner: Set(owner.to_string()),
        attempts: Set(1),
        started_at: Set(now),
        finished_at: Set(None),
        status: Set(RunStatus::Running),
        items: Set(0),
        error: Set(None),
    }
    .insert(conn)
    .await
}
