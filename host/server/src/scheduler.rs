//! The scheduler: a loop in the server that creates deployments' coming
//! runs ahead of time and marks overdue ones Late (Prefect's scheduler and
//! late-runs services in one task).
//!
//! Every [`SchedulerConfig::tick`] it reads the deployments, and for each
//! active schedule of each unpaused deployment creates the runs of the
//! slots [`SchedulePolicy`] picks from now on (Prefect's defaults: until at
//! least 3 runs and 1 hour ahead, at most 100 runs and 100 days ahead), each
//! in state `Scheduled` at its slot. The store makes each slot get one run
//! ([`Store::create_scheduled_flow_runs`]), so any number of servers can run
//! this loop on one database. Then it moves unclaimed `Scheduled` runs due
//! more than [`SchedulerConfig::late_after`] ago to `Late`, and ends
//! `Crashed` the claimed runs whose worker stopped heartbeating more than
//! [`SchedulerConfig::lost_after`] ago (Prefect's zombie detection).
//!
//! Time comes from a [`Clock`], so tests drive the scheduler with a
//! [`ManualClock`] and call [`Scheduler::tick`] or
//! [`Scheduler::schedule_window`] directly instead of sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;
use weft_core::{Deployment, SchedulePolicy, State};
use weft_store::{DeploymentFilter, ScheduledRun, Store, StoreError, Transition};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (for tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `t`.
    pub fn new(t: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(t))
    }

    /// Sets the time.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Moves the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The scheduler's settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How often the loop runs (default 5 s).
    pub tick: std::time::Duration,
    /// How far ahead runs are created.
    pub policy: SchedulePolicy,
    /// A `Scheduled` run still unclaimed this long after its start time
    /// becomes `Late` (default 15 s, Prefect's).
    pub late_after: Duration,
    /// The most runs marked Late per tick.
    pub late_batch: u32,
    /// A claimed, unfinished run whose worker has not heartbeated for this
    /// long ends Crashed (default 90 s; `None`: never). The server sets it
    /// from [`crate::ServerConfig::lost_after`].
    pub lost_after: Option<Duration>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            tick: std::time::Duration::from_secs(5),
            policy: SchedulePolicy::default(),
            late_after: Duration::seconds(15),
            late_batch: 1000,
            lost_after: Some(Duration::seconds(90)),
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// The runs created.
    pub created: Vec<Uuid>,
    /// The runs marked Late.
    pub late: Vec<Uuid>,
    /// The runs of lost workers ended Crashed.
    pub crashed: Vec<Uuid>,
}

/// The slots to schedule: a policy from a start, or an exact window.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    /// [`SchedulePolicy`]'s rule from `start`, no later than `end` when
    /// given.
    Ahead {
        /// The earliest slot.
        start: DateTime<Utc>,
        /// No slot at or after this.
        end: Option<DateTime<Utc>>,
        /// The rule.
        policy: SchedulePolicy,
    },
    /// Every slot in `[from, to)` (at most the policy's or the schedule's
    /// max runs).
    Exact {
        /// The earliest slot.
        from: DateTime<Utc>,
        /// No slot at or after this.
        to: DateTime<Utc>,
        /// At most this many per schedule (unless the schedule says less).
        max_runs: usize,
    },
}

/// The runs `deployment`'s active schedules get in `window` (none when the
/// deployment is paused). A schedule that does not parse is skipped with a
/// warning (the API refuses such schedules; this covers older data).
pub fn runs_for(deployment: &Deployment, window: Window, now: DateTime<Utc>) -> Vec<ScheduledRun> {
    let mut out = Vec::new();
    if deployment.paused {
        return out;
    }
    for schedule in deployment.schedules.iter().filter(|s| s.active) {
        let compiled = match schedule.compile() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(deployment = %deployment.id, schedule = %schedule.id, error = %e, "skipping a schedule that does not parse");
                continue;
            }
        };
        let own_max = schedule.max_scheduled_runs.map(|m| m as usize);
        let slots = match window {
            Window::Ahead { start, end, policy } => {
                compiled.plan(start, end, &policy, own_max.or(Some(policy.max_runs)))
            }
            Window::Exact { from, to, max_runs } => {
                compiled.slots(from, to, own_max.unwrap_or(max_runs).min(max_runs))
            }
        };
        match slots {
            Ok(slots) => out.extend(
                slots
                    .into_iter()
                    .map(|slot| ScheduledRun::for_slot(deployment, schedule, slot, now)),
            ),
            Err(e) => {
                tracing::warn!(deployment = %deployment.id, schedule = %schedule.id, error = %e, "cannot compute a schedule's slots");
            }
        }
    }
    out
}

/// The scheduler of one server.
#[derive(Clone)]
pub struct Scheduler {
    store: Arc<dyn Store>,
    config: SchedulerConfig,
    clock: Arc<dyn Clock>,
    events: Option<crate::events::EventBus>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler over `store` on the system clock.
    pub fn new(store: Arc<dyn Store>, config: SchedulerConfig) -> Scheduler {
        Scheduler::with_clock(store, config, Arc::new(SystemClock))
    }

    /// A scheduler over `store` reading time from `clock`.
    pub fn with_clock(
        store: Arc<dyn Store>,
        config: SchedulerConfig,
        clock: Arc<dyn Clock>,
    ) -> Scheduler {
        Scheduler {
            store,
            config,
            clock,
            events: None,
        }
    }

    /// The same scheduler, publishing the events of the runs it creates,
    /// marks Late and crashes.
    pub fn with_events(mut self, events: crate::events::EventBus) -> Scheduler {
        self.events = Some(events);
        self
    }

    fn announce(&self, ids: &[Uuid]) {
        if let Some(bus) = &self.events {
            for id in ids {
                bus.flow_run_current(*id);
            }
        }
    }

    /// Its settings.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Creates the runs of `deployment` for `window`; the ids created.
    pub async fn schedule_deployment(
        &self,
        deployment: &Deployment,
        window: Window,
    ) -> Result<Vec<Uuid>, StoreError> {
        let runs = runs_for(deployment, window, self.clock.now());
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let created = self.store.create_scheduled_flow_runs(&runs).await?;
        self.announce(&created);
        Ok(created)
    }

    /// Creates the runs of every deployment's active schedules for their
    /// slots in `[from, to)` (at most the policy's max runs per schedule);
    /// slots that already have a run are skipped. The ids created.
    pub async fn schedule_window(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let window = Window::Exact {
            from,
            to,
            max_runs: self.config.policy.max_runs,
        };
        self.schedule_all(window).await
    }

    async fn schedule_all(&self, window: Window) -> Result<Vec<Uuid>, StoreError> {
        let deployments = self
            .store
            .list_deployments(&DeploymentFilter::default())
            .await?;
        let mut created = Vec::new();
        for d in deployments
            .iter()
            .filter(|d| !d.paused && d.schedules.iter().any(|s| s.active))
        {
            created.extend(self.schedule_deployment(d, window).await?);
        }
        Ok(created)
    }

    /// Moves runs overdue by more than `late_after` to Late; their ids.
    pub async fn mark_late(&self) -> Result<Vec<Uuid>, StoreError> {
        let now = self.clock.now();
        let late = self
            .store
            .mark_late_flow_runs(now - self.config.late_after, now, self.config.late_batch)
            .await?;
        self.announce(&late);
        Ok(late)
    }

    /// Ends Crashed the runs whose worker stopped heartbeating more than
    /// `lost_after` ago; their ids.
    pub async fn crash_lost(&self) -> Result<Vec<Uuid>, StoreError> {
        let Some(lost_after) = self.config.lost_after else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let mut crashed = Vec::new();
        for run in self.store.lost_flow_runs(now - lost_after).await? {
            let state = State::crashed(format!(
                "its worker stopped heartbeating (none for {} s): the run is presumed lost",
                lost_after.num_seconds()
            ));
            match self
                .store
                .set_flow_run_state_checked(run.id, &state, false)
                .await?
            {
                Transition::Accepted(_) => crashed.push(run.id),
                Transition::Rejected { .. } => {}
            }
        }
        if !crashed.is_empty() {
            tracing::warn!(
                runs = crashed.len(),
                "flow runs of lost workers ended Crashed"
            );
        }
        self.announce(&crashed);
        Ok(crashed)
    }

    /// One pass: schedules every deployment ahead by the policy from now,
    /// then marks late runs and crashes lost ones.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let window = Window::Ahead {
            start: self.clock.now(),
            end: None,
            policy: self.config.policy,
        };
        let created = self.schedule_all(window).await?;
        let late = self.mark_late().await?;
        let crashed = self.crash_lost().await?;
        if !created.is_empty() || !late.is_empty() {
            tracing::info!(created = created.len(), late = late.len(), "scheduler tick");
        }
        Ok(TickReport {
            created,
            late,
            crashed,
        })
    }

    /// Ticks every [`SchedulerConfig::tick`] until `stop` turns true (or
    /// its sender is dropped). A failed tick is logged and retried at the
    /// next one.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "scheduler tick failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.tick) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
