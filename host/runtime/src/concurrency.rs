//! Tag concurrency limits for task runs: before a tagged task run starts,
//! it takes one slot of each limit `tag:<tag>` of its tags as one lease
//! (through the run's recorder, so across every worker), renews the lease
//! while it runs, and releases it when it ends.
//!
//! A task run that finds a limit full is visibly waiting: its state is
//! PENDING named `AwaitingConcurrencySlot` with a message naming the limit,
//! and the run gets one log line. It then waits for a release (the store
//! wakes it at once) until it gets its slots or its attempt is cancelled.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use weft_core::concurrency::{AWAITING_SLOT, tag_limit_name};
use weft_core::{LogLevel, RecordError, RunRecorder, SlotGrant, SlotHolder, SlotRequest, State};

use crate::run::RunContext;

/// The logger name of the runtime's lines about concurrency slots.
const LOGGER: &str = "weft.concurrency";

/// How long one request waits for a release before asking again.
const WAIT: Duration = Duration::from_secs(30);

/// How long to wait before asking again when the recorder failed.
const BACKOFF: Duration = Duration::from_secs(1);

/// Why a task run did not get its slots.
#[derive(Debug)]
pub(crate) enum NoSlot {
    /// Its attempt ended (cancelled) while it waited.
    Cancelled,
    /// The request can never succeed (e.g. a limit of 0 slots).
    Refused(String),
}

/// Slots held by a task run: renewed in the background, released when
/// dropped.
pub(crate) struct HeldSlots {
    recorder: Arc<dyn RunRecorder>,
    lease_id: Uuid,
    renewer: JoinHandle<()>,
}

impl Drop for HeldSlots {
    fn drop(&mut self) {
        self.renewer.abort();
        let recorder = self.recorder.clone();
        let lease_id = self.lease_id;
        // Released in the background: a task run never waits for it. A
        // release that fails leaves the lease to expire.
        tokio::spawn(async move {
            if let Err(e) = recorder.release_lease(lease_id).await {
                tracing::warn!(lease = %lease_id, error = %e, "could not release concurrency slots");
            }
        });
    }
}

/// Takes the slots of `tags`' limits for the task run `task_run_id`
/// (`None` when no tag has an active limit), waiting while one is full.
pub(crate) async fn acquire(
    run: &RunContext,
    task_run_id: Uuid,
    tags: &[String],
    ended: &CancellationToken,
) -> Result<Option<HeldSlots>, NoSlot> {
    let mut request = SlotRequest {
        names: tags.iter().map(|t| tag_limit_name(t)).collect(),
        slots: 1,
        lease: run.slot_lease,
        holder: Some(SlotHolder::task_run(task_run_id)),
        wait: Duration::ZERO,
    };
    let mut waiting = false;
    let mut failing = false;
    loop {
        let grant = tokio::select! {
            g = run.recorder.acquire_slots(&request) => g,
            _ = ended.cancelled() => return Err(NoSlot::Cancelled),
        };
        match grant {
            Ok(SlotGrant::Acquired { lease_id, limits }) => {
                let Some(lease_id) = lease_id else {
                    return Ok(None);
                };
                if waiting {
                    let names: Vec<&str> = limits.iter().map(|l| l.name.as_str()).collect();
                    log(
                        run,
                        task_run_id,
                        LogLevel::Info,
                        &format!(
                            "Task run got its concurrency slot ({}) and starts",
                            names.join(", ")
                        ),
                    );
                }
                return Ok(Some(HeldSlots {
                    recorder: run.recorder.clone(),
                    lease_id,
                    renewer: tokio::spawn(renew(run.recorder.clone(), lease_id, run.slot_lease)),
                }));
            }
            Ok(SlotGrant::Busy { limit, active, .. }) => {
                if !waiting {
                    waiting = true;
                    let why = format!(
                        "concurrency limit {:?} is full ({active} of {} slots taken)",
                        limit.name, limit.limit
                    );
                    let mut state = State::pending().with_message(format!("Waiting: {why}"));
                    state.name = AWAITING_SLOT.into();
                    if let Err(e) = run.recorder.set_task_run_state(task_run_id, &state).await {
                        tracing::warn!(task_run = %task_run_id, error = %e, "could not record task run state");
                    }
                    log(
                        run,
                        task_run_id,
                        LogLevel::Info,
                        &format!("Task run waits for a concurrency slot: {why}"),
                    );
                }
                request.wait = WAIT;
            }
            Err(RecordError::Invalid(why)) => return Err(NoSlot::Refused(why)),
            Err(e) => {
                if !failing {
                    failing = true;
                    log(
                        run,
                        task_run_id,
                        LogLevel::Warning,
                        &format!("Could not take concurrency slots, trying again: {e}"),
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(BACKOFF) => {}
                    _ = ended.cancelled() => return Err(NoSlot::Cancelled),
                }
            }
        }
    }
}

fn log(run: &RunContext, task_run_id: Uuid, level: LogLevel, message: &str) {
    // Over the log limit the run stops anyway; nothing more to do here.
    let _ = run.log(LOGGER, level, message, Some(task_run_id));
}

/// Renews a lease every third of its duration until aborted.
async fn renew(recorder: Arc<dyn RunRecorder>, lease_id: Uuid, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        match recorder.renew_lease(lease_id, lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(lease = %lease_id, "concurrency lease expired before it was renewed; the task keeps running");
                return;
            }
            Err(e) => {
                tracing::warn!(lease = %lease_id, error = %e, "could not renew concurrency lease")
            }
        }
    }
}
