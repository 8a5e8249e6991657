//! The server's event bus: every state change the API records, and every
//! event posted from outside, goes through [`EventBus::emit`] (or
//! [`EventBus::flow_run_changed`]). One task, in order, builds each event,
//! hands it to the subscribers (the automations engine) and stores it in
//! batches, off the request's path.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;
use weft_core::event::{flow_run_state_event, normalize_name};
use weft_core::{Event, FlowRun, State};
use weft_store::{FlowRunFilter, Store};

/// Events buffered per subscriber before a slow one starts missing some.
const SUBSCRIBER_BUFFER: usize = 4096;

/// The most events stored in one write.
const BATCH: usize = 500;

/// The most unfinished flow runs the bus remembers (to label their
/// events without reading them); past it, it starts afresh.
const KNOWN_RUNS: usize = 10_000;

/// Runs whose parameters take more bytes than this are read again rather
/// than remembered.
const KNOWN_PARAMETERS_BYTES: usize = 4096;

enum Message {
    /// A complete event.
    Ready(Box<Event>),
    /// A flow run entered `state` (or, with `None`, its current state):
    /// the bus reads the run to label the event, unless it knows it.
    FlowRun(Uuid, Option<Box<State>>),
    /// A flow run, as just created or claimed, entered `state`; the bus
    /// keeps it (it is unfinished, its parameters small).
    Known(Box<FlowRun>, Box<State>),
    /// Answered once everything before it is stored.
    Flush(oneshot::Sender<()>),
}

/// The bus. Cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    tx: mpsc::UnboundedSender<Message>,
    subscribers: broadcast::Sender<Arc<Event>>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus").finish_non_exhaustive()
    }
}

impl EventBus {
    /// A bus storing into `store`; starts its task (on the current tokio
    /// runtime), which ends when every clone is dropped.
    pub fn start(store: Arc<dyn Store>) -> EventBus {
        let (tx, rx) = mpsc::unbounded_channel();
        let (subscribers, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        tokio::spawn(run(store, rx, subscribers.clone()));
        EventBus { tx, subscribers }
    }

    /// Publishes an event (its name normalized: `weft.` is `prefect.`).
    pub fn emit(&self, mut event: Event) {
        event.event = normalize_name(&event.event);
        let _ = self.tx.send(Message::Ready(Box::new(event)));
    }

    /// Publishes the event of `run` (as the caller has just read or made
    /// it) entering `state`; the bus remembers the run while unfinished,
    /// for the events of its next states.
    pub fn flow_run_entered(&self, run: &FlowRun, state: &State) {
        if !KnownRuns::keeps(run, state) {
            self.emit(flow_run_state_event(run, state));
            return;
        }
        let _ = self.tx.send(Message::Known(
            Box::new(run.clone()),
            Box::new(state.clone()),
        ));
    }

    /// Publishes the event of flow run `id` entering `state`.
    pub fn flow_run_changed(&self, id: Uuid, state: &State) {
        let _ = self
            .tx
            .send(Message::FlowRun(id, Some(Box::new(state.clone()))));
    }

    /// Publishes the event of flow run `id`'s current state.
    pub fn flow_run_current(&self, id: Uuid) {
        let _ = self.tx.send(Message::FlowRun(id, None));
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.subscribers.subscribe()
    }

    /// Waits until every event published so far is stored.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Message::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    subscribers: broadcast::Sender<Arc<Event>>,
) {
    let mut messages: Vec<Message> = Vec::new();
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    let mut known = KnownRuns::default();
    // Take what is already queued, up to a batch.
    while rx.recv_many(&mut messages, BATCH).await > 0 {
        let read = read_runs(&store, &messages, &known).await;
        let mut batch: Vec<Event> = Vec::with_capacity(messages.len());
        for message in messages.drain(..) {
            match message {
                Message::Ready(e) => batch.push(*e),
                Message::Known(run, state) => {
                    batch.push(flow_run_state_event(&run, &state));
                    known.remember(*run);
                }
                Message::FlowRun(id, Some(state)) => {
                    if let Some(run) = known.get(&id).or_else(|| read.get(&id)) {
                        batch.push(flow_run_state_event(run, &state));
                        known.entered(id, &state);
                    }
                }
                // The current state: as read (a remembered copy's is old).
                Message::FlowRun(id, None) => {
                    if let Some(run) = read.get(&id) {
                        batch.push(flow_run_state_event(run, &run.state));
                        known.entered(id, &run.state);
                    }
                }
                Message::Flush(done) => flushes.push(done),
            }
        }
        for e in &batch {
            let _ = subscribers.send(Arc::new(e.clone()));
        }
        if !batch.is_empty()
            && let Err(e) = store.write_events(&batch).await
        {
            tracing::warn!(error = %e, events = batch.len(), "could not store events");
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Unfinished flow runs whose events the bus labelled lately. A run's
/// name, flow, deployment, pool, tags and parameters never change, so the
/// copy is as good as a read.
#[derive(Default)]
struct KnownRuns(HashMap<Uuid, FlowRun>);

impl KnownRuns {
    /// Whether `run`, entering `state`, is worth keeping: unfinished, with
    /// small parameters.
    fn keeps(run: &FlowRun, state: &State) -> bool {
        !state.is_terminal()
            && serde_json::to_vec(&run.parameters).map_or(usize::MAX, |b| b.len())
                <= KNOWN_PARAMETERS_BYTES
    }

    fn remember(&mut self, run: FlowRun) {
        if self.0.len() >= KNOWN_RUNS {
            self.0.clear();
        }
        self.0.insert(run.id, run);
    }

    fn get(&self, id: &Uuid) -> Option<&FlowRun> {
        self.0.get(id)
    }

    /// A finished run is forgotten (a retry reads it again).
    fn entered(&mut self, id: Uuid, state: &State) {
        if state.is_terminal() {
            self.0.remove(&id);
        }
    }
}

/// The flow runs the `FlowRun` messages of a batch name that the bus does
/// not know (nor will, from a `Known` message before them), in one read.
async fn read_runs(
    store: &Arc<dyn Store>,
    messages: &[Message],
    known: &KnownRuns,
) -> HashMap<Uuid, FlowRun> {
    let mut coming = HashSet::new();
    let mut ids: Vec<Uuid> = Vec::new();
    for m in messages {
        match m {
            Message::Known(run, _) => {
                coming.insert(run.id);
            }
            Message::FlowRun(id, None) => ids.push(*id),
            Message::FlowRun(id, Some(_)) if known.get(id).is_none() && !coming.contains(id) => {
                ids.push(*id)
            }
            _ => {}
        }
    }
    if ids.is_empty() {
        return HashMap::new();
    }
    let filter = FlowRunFilter {
        ids: Some(ids),
        ..FlowRunFilter::default()
    };
    match store.list_flow_runs(&filter).await {
        Ok(runs) => runs.into_iter().map(|r| (r.id, r)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not read flow runs for their events");
            HashMap::new()
        }
    }
}
