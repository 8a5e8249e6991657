//! The automations engine: a task that reads every event from the bus,
//! counts it for each enabled automation whose trigger matches
//! ([`crate::triggers`]), and runs the automation's actions when it fires.
//!
//! Automations are definitions of kind [`KIND`] in the store; the engine
//! keeps them in memory and is told to [`Automations::reload`] when one
//! changes. Each action runs in order; a failed action is logged and
//! recorded as the event `prefect.automation.action.failed` (a success as
//! `prefect.automation.action.executed`), and never stops the engine.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;
use weft_core::event::{Labels, RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE};
use weft_core::{Event, State, StateType};
use weft_store::Transition;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::models::automation::{Action, AutomationSpec};
use crate::triggers::{self, Counter};

/// The definition kind of automations.
pub const KIND: &str = "automation";

/// How long a `call-webhook` request may take.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

struct Rule {
    id: Uuid,
    spec: AutomationSpec,
    counter: Mutex<Counter>,
}

/// The engine's automations. Cheap to clone.
#[derive(Clone, Default)]
pub struct Automations {
    rules: Arc<RwLock<Vec<Arc<Rule>>>>,
}

impl std::fmt::Debug for Automations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Automations").finish_non_exhaustive()
    }
}

impl Automations {
    /// Reads the automations from the store again (counts of unchanged
    /// ones are kept).
    pub async fn reload(&self, state: &AppState) -> ApiResult<()> {
        let defs = state.store.list_definitions(KIND).await?;
        let old: Vec<Arc<Rule>> = self.read().clone();
        let mut rules = Vec::with_capacity(defs.len());
        for d in defs {
            let spec: AutomationSpec = match serde_json::from_value(d.body) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(automation = %d.id, error = %e, "skipping an automation that does not parse");
                    continue;
                }
            };
            match old.iter().find(|r| r.id == d.id && r.spec == spec) {
                Some(same) => rules.push(same.clone()),
                None => rules.push(Arc::new(Rule {
                    id: d.id,
                    spec,
                    counter: Mutex::new(Counter::default()),
                })),
            }
        }
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = rules;
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Rule>>> {
        self.rules.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The enabled automations `event` fires.
    fn fired_by(&self, event: &Event) -> Vec<Arc<Rule>> {
        self.read()
            .iter()
            .filter(|r| r.spec.enabled && triggers::matches(&r.spec.trigger, event))
            .filter(|r| {
                r.counter
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .count(&r.spec.trigger, event)
            })
            .cloned()
            .collect()
    }
}

/// Runs the engine until the bus closes.
pub async fn run(state: AppState) {
    if let Err(e) = state.automations.reload(&state).await {
        tracing::warn!(error = %e, "could not load automations");
    }
    let mut events = state.events.subscribe();
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "the automations engine fell behind and skipped events"
                );
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        // Its own events never trigger automations.
        if event.event.starts_with("prefect.automation.") {
            continue;
        }
        for rule in state.automations.fired_by(&event) {
            tracing::info!(automation = %rule.id, name = %rule.spec.name, event = %event.event, "automation triggered");
            fire(&state, &rule, &event).await;
        }
    }
}

async fn fire(state: &AppState, rule: &Rule, event: &Event) {
    let context = context(state, rule, event).await;
    for (i, action) in rule.spec.actions.iter().enumerate() {
        let outcome = act(state, action, event, &context).await;
        let (name, detail) = match &outcome {
            Ok(detail) => ("prefect.automation.action.executed", detail.clone()),
            Err(e) => {
                tracing::warn!(automation = %rule.id, action = i, error = %e, "automation action failed");
                (
                    "prefect.automation.action.failed",
                    json!({ "reason": e.to_string() }),
                )
            }
        };
        let mut record = Event::new(name, format!("prefect.automation.{}", rule.id));
        record
            .resource
            .insert(RESOURCE_NAME.into(), rule.spec.name.clone());
        record.payload = json!({
            "action_index": i,
            "action_type": action_type(action),
            "triggering_event": {"id": event.id, "event": event.event},
            "detail": detail,
        });
        state.events.emit(record);
    }
}

fn action_type(action: &Action) -> &'static str {
    match action {
        Action::RunDeployment { .. } => "run-deployment",
        Action::CancelFlowRun {} => "cancel-flow-run",
        Action::PauseDeployment { .. } => "pause-deployment",
        Action::ResumeDeployment { .. } => "resume-deployment",
        Action::PauseSchedule { .. } => "pause-schedule",
        Action::ResumeSchedule { .. } => "resume-schedule",
        Action::CallWebhook { .. } => "call-webhook",
        Action::DoNothing {} => "do-nothing",
    }
}

/// What action templates see: `event`, `automation`, and `flow_run` when
/// the event is about one.
async fn context(state: &AppState, rule: &Rule, event: &Event) -> Value {
    let flow_run = match flow_run_of(event) {
        Some(id) => state.store.read_flow_run(id).await.ok().flatten(),
        None => None,
    };
    json!({
        "event": event,
        "automation": {"id": rule.id, "name": rule.spec.name},
        "flow_run": flow_run,
    })
}

fn flow_run_of(event: &Event) -> Option<Uuid> {
    event
        .resource_id()
        .strip_prefix("prefect.flow-run.")
        .and_then(|id| Uuid::parse_str(id).ok())
}

fn deployment_of(event: &Event) -> Option<Uuid> {
    event
        .related_id("deployment")
        .and_then(|r| r.strip_prefix("prefect.deployment."))
        .and_then(|id| Uuid::parse_str(id).ok())
}

fn chosen_deployment(
    source: &str,
    selected: Option<Uuid>,
    event: &Event,
) -> Result<Uuid, ApiError> {
    match source {
        "inferred" => deployment_of(event).ok_or_else(|| {
            ApiError::invalid("the triggering event is not related to a deployment")
        }),
        _ => selected.ok_or_else(|| ApiError::invalid("no deployment_id is selected")),
    }
}

/// Runs one action; what it did, as JSON.
async fn act(
    state: &AppState,
    action: &Action,
    event: &Event,
    context: &Value,
) -> ApiResult<Value> {
    match action {
        Action::RunDeployment {
            source,
            deployment_id,
            parameters,
            ..
        } => {
            let d = crate::routes::deployments::load(
                state,
                chosen_deployment(source, *deployment_id, event)?,
            )
            .await?;
            let parameters = parameters
                .as_ref()
                .map(|p| crate::templates::render(p, context))
                .transpose()
                .map_err(ApiError::invalid)?;
            let run = crate::routes::deployments::create_run(
                state,
                &d,
                parameters,
                None,
                vec!["automation".into()],
                None,
            )
            .await?;
            Ok(json!({ "flow_run_id": run.id, "deployment_id": d.id }))
        }
        Action::CancelFlowRun {} => {
            let id = flow_run_of(event)
                .ok_or_else(|| ApiError::invalid("the triggering event is not about a flow run"))?;
            cancel(state, id).await
        }
        Action::PauseDeployment {
            source,
            deployment_id,
        }
        | Action::ResumeDeployment {
            source,
            deployment_id,
        } => {
            let pause = matches!(action, Action::PauseDeployment { .. });
            let old = crate::routes::deployments::load(
                state,
                chosen_deployment(source, *deployment_id, event)?,
            )
            .await?;
            let mut d = old.clone();
            d.paused = pause;
            let d = crate::routes::schedules::save(state, &old, d).await?;
            Ok(json!({ "deployment_id": d.id, "paused": pause }))
        }
        Action::PauseSchedule {
            source,
            deployment_id,
            schedule_id,
        }
        | Action::ResumeSchedule {
            source,
            deployment_id,
            schedule_id,
        } => {
            let active = matches!(action, Action::ResumeSchedule { .. });
            let old = crate::routes::deployments::load(
                state,
                chosen_deployment(source, *deployment_id, event)?,
            )
            .await?;
            let mut d = old.clone();
            let mut changed = 0;
            for s in d
                .schedules
                .iter_mut()
                .filter(|s| schedule_id.is_none_or(|id| s.id == id))
            {
                s.active = active;
                changed += 1;
            }
            if changed == 0 {
                return Err(ApiError::not_found(format!(
                    "schedule {} of deployment {}",
                    schedule_id.map_or("(any)".to_string(), |id| id.to_string()),
                    d.id
                )));
            }
            let d = crate::routes::schedules::save(state, &old, d).await?;
            Ok(json!({ "deployment_id": d.id, "schedules": changed, "active": active }))
        }
        Action::CallWebhook {
            url,
            method,
            headers,
            payload,
        } => call_webhook(url, method, headers, payload.as_ref(), context).await,
        Action::DoNothing {} => Ok(Value::Null),
    }
}

/// Cancels a flow run as `set_state` CANCELLING does: at once when no
/// worker holds it, else through its worker.
async fn cancel(state: &AppState, id: Uuid) -> ApiResult<Value> {
    let run = state
        .store
        .read_flow_run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("flow run {id}")))?;
    let proposed = if crate::routes::flow_runs::unstarted(&run.state) {
        State::cancelled("cancelled by an automation before it started")
    } else {
        State::of_type(StateType::Cancelling).with_message("cancelled by an automation")
    };
    match state
        .store
        .set_flow_run_state_checked(id, &proposed, false)
        .await?
    {
        Transition::Accepted(s) => {
            state.events.flow_run_changed(id, &s);
            Ok(json!({ "flow_run_id": id, "state": s.name }))
        }
        Transition::Rejected { reason, .. } => Err(ApiError::Conflict(reason)),
    }
}

async fn call_webhook(
    url: &str,
    method: &str,
    headers: &std::collections::BTreeMap<String, String>,
    payload: Option<&Value>,
    context: &Value,
) -> ApiResult<Value> {
    let body = match payload {
        Some(p) => crate::templates::render(p, context).map_err(ApiError::invalid)?,
        None => context["event"].clone(),
    };
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
        .map_err(|_| ApiError::invalid(format!("bad method {method:?}")))?;
    let client = reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut request = client.request(method, url).json(&body);
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(format!("webhook {url}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(ApiError::Unavailable(format!(
            "webhook {url} answered {status}"
        )));
    }
    Ok(json!({ "url": url, "status": status.as_u16() }))
}

/// Checks an automation before it is saved, and resolves weft's
/// `deployment_name` to `deployment_id`.
pub async fn prepare(state: &AppState, spec: &mut AutomationSpec) -> ApiResult<()> {
    if spec.name.trim().is_empty() {
        return Err(ApiError::invalid("an automation needs a name"));
    }
    triggers::check(&spec.trigger).map_err(ApiError::invalid)?;
    if spec.actions.is_empty() {
        return Err(ApiError::invalid("an automation needs at least one action"));
    }
    for action in &mut spec.actions {
        match action {
            Action::RunDeployment {
                source,
                deployment_id,
                deployment_name,
                parameters,
                ..
            } => {
                if let Some(name) = deployment_name.take() {
                    let (flow, dep) = name.split_once('/').ok_or_else(|| {
                        ApiError::invalid(format!(
                            "deployment_name {name:?} must be FLOW/DEPLOYMENT"
                        ))
                    })?;
                    let d = state
                        .store
                        .read_deployment_by_name(flow, dep)
                        .await?
                        .ok_or_else(|| ApiError::invalid(format!("no deployment {name}")))?;
                    *deployment_id = Some(d.id);
                }
                check_source(source, *deployment_id)?;
                if let Some(p) = parameters {
                    crate::templates::check(p).map_err(ApiError::invalid)?;
                }
            }
            Action::PauseDeployment {
                source,
                deployment_id,
            }
            | Action::ResumeDeployment {
                source,
                deployment_id,
            }
            | Action::PauseSchedule {
                source,
                deployment_id,
                ..
            }
            | Action::ResumeSchedule {
                source,
                deployment_id,
                ..
            } => check_source(source, *deployment_id)?,
            Action::CallWebhook {
                url,
                method,
                payload,
                ..
            } => {
                let parsed = reqwest::Url::parse(url)
                    .map_err(|e| ApiError::invalid(format!("webhook url {url:?}: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(ApiError::invalid("a webhook url must be http or https"));
                }
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                    .map_err(|_| ApiError::invalid(format!("bad method {method:?}")))?;
                if let Some(p) = payload {
                    crate::templates::check(p).map_err(ApiError::invalid)?;
                }
            }
            Action::CancelFlowRun {} | Action::DoNothing {} => {}
        }
    }
    Ok(())
}

fn check_source(source: &str, selected: Option<Uuid>) -> ApiResult<()> {
    match (source, selected) {
        ("inferred", _) | ("selected", Some(_)) => Ok(()),
        ("selected", None) => Err(ApiError::invalid(
            "a selected deployment needs deployment_id (or deployment_name)",
        )),
        (other, _) => Err(ApiError::invalid(format!(
            "source {other:?} must be selected or inferred"
        ))),
    }
}

/// The labels of an automation's related resource (for
/// `related-to/{resource_id}`): the deployments its actions name.
pub fn related_resources(spec: &AutomationSpec) -> Vec<Labels> {
    spec.actions
        .iter()
        .filter_map(|a| match a {
            Action::RunDeployment {
                deployment_id: Some(id),
                ..
            }
            | Action::PauseDeployment {
                deployment_id: Some(id),
                ..
            }
            | Action::ResumeDeployment {
                deployment_id: Some(id),
                ..
            }
            | Action::PauseSchedule {
                deployment_id: Some(id),
                ..
            }
            | Action::ResumeSchedule {
                deployment_id: Some(id),
                ..
            } => Some(id),
            _ => None,
        })
        .map(|id| {
            [
                (RESOURCE_ID.to_string(), format!("prefect.deployment.{id}")),
                (RESOURCE_ROLE.to_string(), "deployment".to_string()),
            ]
            .into_iter()
            .collect()
        })
        .collect()
}
