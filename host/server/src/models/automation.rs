//! Automations (Prefect's `Automation` with an `EventTrigger` and actions)
//! and webhooks, as the API takes and returns them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One label pattern or several (any of them matches).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Patterns {
    /// One pattern.
    One(String),
    /// Any of these.
    Many(Vec<String>),
}

impl Patterns {
    /// The patterns, as a slice.
    pub fn all(&self) -> Vec<&str> {
        match self {
            Patterns::One(p) => vec![p.as_str()],
            Patterns::Many(ps) => ps.iter().map(String::as_str).collect(),
        }
    }
}

/// Label patterns: every label must match one of its patterns. A pattern
/// ending in `*` matches by prefix; `*` alone matches anything.
pub type LabelPatterns = BTreeMap<String, Patterns>;

fn event_kind() -> String {
    "event".into()
}

fn reactive() -> String {
    "Reactive".into()
}

fn one() -> u32 {
    1
}

/// Prefect's `EventTrigger`: fires when `threshold` matching events occur
/// within `within` seconds (per distinct values of the `for_each` labels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Trigger {
    /// `event` (the only kind weft has).
    #[serde(rename = "type", default = "event_kind")]
    pub kind: String,
    /// Patterns the event's resource labels must match.
    #[serde(rename = "match", default)]
    pub match_resource: LabelPatterns,
    /// Patterns one of the event's related resources must match.
    #[serde(default)]
    pub match_related: LabelPatterns,
    /// Not supported yet: must be empty.
    #[serde(default)]
    pub after: Vec<String>,
    /// Event names (a trailing `*` matches by prefix; `weft.` is
    /// `prefect.`); empty matches every event.
    #[serde(default)]
    pub expect: Vec<String>,
    /// Labels whose values count separately (e.g. `prefect.resource.id`).
    #[serde(default)]
    pub for_each: Vec<String>,
    /// `Reactive` (the only posture weft has).
    #[serde(default = "reactive")]
    pub posture: String,
    /// How many matching events fire it.
    #[serde(default = "one")]
    pub threshold: u32,
    /// Seconds within which `threshold` events must occur (0: no window).
    #[serde(default)]
    pub within: f64,
}

fn selected() -> String {
    "selected".into()
}

fn post() -> String {
    "POST".into()
}

/// What an automation does when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Action {
    /// Creates a run of a deployment: the selected one, or (`source:
    /// inferred`) the triggering event's related deployment.
    RunDeployment {
        /// `selected` or `inferred`.
        #[serde(default = "selected")]
        source: String,
        /// The deployment, when selected.
        #[serde(default)]
        deployment_id: Option<Uuid>,
        /// Weft's own: `flow/deployment`, resolved to `deployment_id` when
        /// the automation is saved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deployment_name: Option<String>,
        /// Parameters: a JSON template (`{{ event.payload.file }}`).
        #[serde(default)]
        parameters: Option<serde_json::Value>,
        /// Ignored (Prefect's infrastructure overrides).
        #[serde(default)]
        job_variables: Option<serde_json::Value>,
    },
    /// Cancels the triggering event's flow run.
    CancelFlowRun {},
    /// Pauses a deployment (its schedules create no more runs).
    PauseDeployment {
        /// `selected` or `inferred`.
        #[serde(default = "selected")]
        source: String,
        /// The deployment, when selected.
        #[serde(default)]
        deployment_id: Option<Uuid>,
    },
    /// Resumes a paused deployment.
    ResumeDeployment {
        /// `selected` or `inferred`.
        #[serde(default = "selected")]
        source: String,
        /// The deployment, when selected.
        #[serde(default)]
        deployment_id: Option<Uuid>,
    },
    /// Pauses one schedule of a deployment (`schedule_id`), or all of them;
    /// the deployment itself stays active.
    PauseSchedule {
        /// `selected` or `inferred`.
        #[serde(default = "selected")]
        source: String,
        /// The deployment, when selected.
        #[serde(default)]
        deployment_id: Option<Uuid>,
        /// The schedule (default: every schedule of the deployment).
        #[serde(default)]
        schedule_id: Option<Uuid>,
    },
    /// Resumes one schedule of a deployment, or all of them.
    ResumeSchedule {
        /// `selected` or `inferred`.
        #[serde(default = "selected")]
        source: String,
        /// The deployment, when selected.
        #[serde(default)]
        deployment_id: Option<Uuid>,
        /// The schedule (default: every schedule of the deployment).
        #[serde(default)]
        schedule_id: Option<Uuid>,
    },
    /// Sends an HTTP request (weft's form of Prefect's `call-webhook`: the
    /// URL is given here instead of a block).
    CallWebhook {
        /// Where to send it (http or https).
        url: String,
        /// The method (default POST).
        #[serde(default = "post")]
        method: String,
        /// Extra headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// The JSON body: a template (default: the triggering event).
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    /// Does nothing (Prefect's `do-nothing`).
    DoNothing {},
}

fn yes() -> bool {
    true
}

/// An automation as stored and as created (`POST /api/automations/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AutomationSpec {
    /// Its name, unique.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// A disabled automation never fires.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When it fires.
    pub trigger: Trigger,
    /// What it does, in order.
    pub actions: Vec<Action>,
    /// Prefect's; weft runs `actions` on trigger and ignores these.
    #[serde(default)]
    pub actions_on_trigger: Vec<serde_json::Value>,
    /// Prefect's; weft has no resolve and ignores these.
    #[serde(default)]
    pub actions_on_resolve: Vec<serde_json::Value>,
}

/// The body of `PATCH /api/automations/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct AutomationPatch {
    /// Enable or disable it.
    pub enabled: Option<bool>,
}

/// An automation as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AutomationOut {
    /// Its id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its definition.
    #[serde(flatten)]
    pub spec: AutomationSpec,
}

/// A webhook as stored and as created (`POST /api/webhooks/`): requests to
/// `POST /hooks/{slug}` become the event `template` renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookSpec {
    /// Its URL's last segment, unique: letters, digits, `-` and `_`.
    pub slug: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// A disabled webhook answers 404.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The event to emit, a JSON template over `body` (the request's JSON,
    /// or its text), `headers`, `query` and `method`: at least `event`;
    /// `resource` defaults to `weft.webhook.<slug>`.
    pub template: serde_json::Value,
}

/// A webhook as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookOut {
    /// Its id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its definition.
    #[serde(flatten)]
    pub spec: WebhookSpec,
}

/// An event as posted (`POST /api/events`): `id` and `occurred` default.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventIn {
    /// Its id (default: new).
    #[serde(default)]
    pub id: Option<Uuid>,
    /// When it happened (default: now).
    #[serde(default)]
    pub occurred: Option<DateTime<Utc>>,
    /// Its name.
    pub event: String,
    /// The resource's labels, with `prefect.resource.id`.
    #[schema(value_type = Object)]
    pub resource: BTreeMap<String, String>,
    /// Related resources.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub related: Vec<BTreeMap<String, String>>,
    /// Anything.
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl EventIn {
    /// The event, checked.
    pub fn into_event(self) -> Result<weft_core::Event, String> {
        let now = Utc::now();
        let e = weft_core::Event {
            id: self.id.unwrap_or_else(Uuid::now_v7),
            occurred: self.occurred.unwrap_or(now),
            event: weft_core::event::normalize_name(&self.event),
            resource: self.resource,
            related: self.related,
            payload: self.payload,
            received: now,
        };
        e.validate()?;
        Ok(e)
    }
}

/// One event or several.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EventsIn {
    /// Several.
    Many(Vec<EventIn>),
    /// One.
    One(Box<EventIn>),
}

/// Prefect's event filter criteria (the parts weft reads).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct EventCriteria {
    /// `{"since": ..., "until": ...}`.
    pub occurred: Option<OccurredFilter>,
    /// `{"prefix": [...], "name": [...]}`.
    pub event: Option<EventNameFilter>,
    /// `{"id": [...]}`.
    pub resource: Option<ResourceFilter>,
}

/// When events occurred.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct OccurredFilter {
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// At or before.
    pub until: Option<DateTime<Utc>>,
}

/// Which event names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct EventNameFilter {
    /// Names starting with one of these.
    pub prefix: Option<Vec<String>>,
    /// One of these names.
    pub name: Option<Vec<String>>,
}

/// Which resources.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ResourceFilter {
    /// One of these `prefect.resource.id`s.
    pub id: Option<Vec<String>>,
}

/// The body of `POST /api/events/filter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct EventFilterBody {
    /// The criteria.
    pub filter: Option<EventCriteria>,
    /// At most this many (default 50).
    pub limit: Option<u32>,
}

/// The answer of `POST /api/events/filter` (Prefect's `EventPage`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    /// The events, newest first.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<weft_core::Event>,
    /// How many there are in this page.
    pub total: usize,
    /// Always null: one page.
    pub next_page: Option<String>,
}
