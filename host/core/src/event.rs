//! Events, as Prefect 3 shapes them: a name (`prefect.flow-run.Completed`),
//! the resource it is about (labels, `prefect.resource.id` first), related
//! resources with roles, and a JSON payload. Every state change of a flow
//! or task run is one; external systems post their own.
//!
//! Weft keeps Prefect's names, so Prefect users' triggers work unchanged;
//! `weft.` is accepted wherever a name is matched as the same thing as
//! `prefect.` ([`normalize_name`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{FlowRun, TaskRun};
use crate::state::State;

/// The label naming a resource.
pub const RESOURCE_ID: &str = "prefect.resource.id";
/// The label giving a resource's human name.
pub const RESOURCE_NAME: &str = "prefect.resource.name";
/// The label giving a related resource's role.
pub const RESOURCE_ROLE: &str = "prefect.resource.role";

/// A resource's labels (`prefect.resource.id` and any others).
pub type Labels = BTreeMap<String, String>;

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its id.
    pub id: Uuid,
    /// When it happened.
    pub occurred: DateTime<Utc>,
    /// What happened (`prefect.flow-run.Completed`).
    pub event: String,
    /// The resource it is about; has `prefect.resource.id`.
    pub resource: Labels,
    /// Related resources, each with `prefect.resource.id` and a role.
    #[serde(default)]
    pub related: Vec<Labels>,
    /// Anything else, as JSON.
    #[serde(default)]
    pub payload: serde_json::Value,
    /// When weft received it.
    #[serde(default = "Utc::now")]
    pub received: DateTime<Utc>,
}

impl Event {
    /// A new event named `event` about the resource `resource_id`, now.
    pub fn new(event: impl Into<String>, resource_id: impl Into<String>) -> Event {
        let now = Utc::now();
        let mut resource = Labels::new();
        resource.insert(RESOURCE_ID.into(), resource_id.into());
        Event {
            id: Uuid::now_v7(),
            occurred: now,
            event: event.into(),
            resource,
            related: Vec::new(),
            payload: serde_json::Value::Null,
            received: now,
        }
    }

    /// The id of the resource it is about.
    pub fn resource_id(&self) -> &str {
        self.resource.get(RESOURCE_ID).map_or("", String::as_str)
    }

    /// The id of its related resource of `role` (e.g. `deployment`).
    pub fn related_id(&self, role: &str) -> Option<&str> {
        self.related
            .iter()
            .find(|r| r.get(RESOURCE_ROLE).is_some_and(|x| x == role))
            .and_then(|r| r.get(RESOURCE_ID))
            .map(String::as_str)
    }

    /// Checks what an outside caller sent: a name and a resource id.
    pub fn validate(&self) -> Result<(), String> {
        if self.event.trim().is_empty() || self.event.len() > 1024 {
            return Err("an event's `event` must be 1 to 1024 bytes".into());
        }
        if self.resource_id().trim().is_empty() {
            return Err(format!("an event's resource needs a `{RESOURCE_ID}` label"));
        }
        if self.related.iter().any(|r| !r.contains_key(RESOURCE_ID)) {
            return Err(format!(
                "every related resource needs a `{RESOURCE_ID}` label"
            ));
        }
        Ok(())
    }
}

/// `weft.x` is `prefect.x`: the name events are stored and matched under.
pub fn normalize_name(name: &str) -> String {
    match name.strip_prefix("weft.") {
        Some(rest) => format!("prefect.{rest}"),
        None => name.to_string(),
    }
}

fn labels(pairs: &[(&str, String)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn related(kind: &str, id: &str, name: &str) -> Labels {
    labels(&[
        (RESOURCE_ID, format!("prefect.{kind}.{id}")),
        (RESOURCE_ROLE, kind.to_string()),
        (RESOURCE_NAME, name.to_string()),
    ])
}

fn state_labels(resource: String, name: &str, state: &State) -> Labels {
    let mut l = labels(&[
        (RESOURCE_ID, resource),
        (RESOURCE_NAME, name.to_string()),
        ("prefect.state-name", state.name.clone()),
        ("prefect.state-type", state.state_type.as_str().to_string()),
        ("prefect.state-timestamp", state.timestamp.to_rfc3339()),
    ]);
    if let Some(m) = &state.message {
        l.insert("prefect.state-message".into(), m.clone());
    }
    l
}

fn tag_labels(tags: &[String]) -> impl Iterator<Item = Labels> + '_ {
    tags.iter().map(|t| related("tag", t, t))
}

/// The event of a flow run entering `state`: `prefect.flow-run.<state
/// name>`, about `prefect.flow-run.<id>`, related to its flow, deployment,
/// work pool and tags; the payload has the state's type, name and message
/// (and its result, when it has one).
pub fn flow_run_state_event(run: &FlowRun, state: &State) -> Event {
    let mut e = Event::new(
        format!("prefect.flow-run.{}", state.name),
        format!("prefect.flow-run.{}", run.id),
    );
    e.occurred = state.timestamp;
    e.resource = state_labels(format!("prefect.flow-run.{}", run.id), &run.name, state);
    e.related
        .push(related("flow", &run.flow_name, &run.flow_name));
    if let Some(d) = run.deployment_id {
        let name = run.deployment_name.clone().unwrap_or_default();
        e.related.push(related("deployment", &d.to_string(), &name));
    }
    if let Some(p) = &run.work_pool_name {
        e.related.push(related("work-pool", p, p));
    }
    e.related.extend(tag_labels(&run.tags));
    e.payload = serde_json::json!({
        "intended": {"to": state.state_type.as_str()},
        "initial_state": null,
        "validated_state": {
            "type": state.state_type.as_str(),
            "name": state.name,
            "message": state.message,
        },
        "flow_run": {
            "id": run.id,
            "name": run.name,
            "flow_name": run.flow_name,
            "parameters": run.parameters,
            "tags": run.tags,
        },
        "result": state.data,
    });
    e
}

/// The event of a task run entering `state`: `prefect.task-run.<state
/// name>`, about `prefect.task-run.<id>`, related to its flow run and tags.
pub fn task_run_state_event(run: &TaskRun, state: &State) -> Event {
    let mut e = Event::new(
        format!("prefect.task-run.{}", state.name),
        format!("prefect.task-run.{}", run.id),
    );
    e.occurred = state.timestamp;
    e.resource = state_labels(format!("prefect.task-run.{}", run.id), &run.name, state);
    e.related.push(related(
        "flow-run",
        &run.flow_run_id.to_string(),
        &run.flow_run_id.to_string(),
    ));
    e.related.extend(tag_labels(&run.tags));
    e.payload = serde_json::json!({
        "validated_state": {
            "type": state.state_type.as_str(),
            "name": state.name,
            "message": state.message,
        },
        "task_run": {"id": run.id, "name": run.name, "task_key": run.task_key},
    });
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_run_events_are_named_and_labelled_as_prefect_does() {
        let mut run = FlowRun::new("etl", "digest", serde_json::json!({"n": 1}));
        run.deployment_id = Some(Uuid::nil());
        run.deployment_name = Some("nightly".into());
        run.tags = vec!["prod".into()];
        let e = flow_run_state_event(&run, &State::failed("boom"));
        assert_eq!(e.event, "prefect.flow-run.Failed");
        assert_eq!(e.resource_id(), format!("prefect.flow-run.{}", run.id));
        assert_eq!(e.resource["prefect.state-type"], "FAILED");
        assert_eq!(e.resource["prefect.state-message"], "boom");
        assert_eq!(
            e.related_id("deployment"),
            Some(format!("prefect.deployment.{}", Uuid::nil()).as_str())
        );
        assert_eq!(e.related_id("tag"), Some("prefect.tag.prod"));
        assert!(e.validate().is_ok());
    }

    #[test]
    fn weft_names_are_prefect_names() {
        assert_eq!(
            normalize_name("weft.flow-run.Failed"),
            "prefect.flow-run.Failed"
        );
        assert_eq!(normalize_name("file.uploaded"), "file.uploaded");
    }

    #[test]
    fn outside_events_need_a_name_and_a_resource() {
        let mut e = Event::new("x", "");
        assert!(e.validate().is_err());
        e.resource.insert(RESOURCE_ID.into(), "s3.bucket.b".into());
        assert!(e.validate().is_ok());
        e.event.clear();
        assert!(e.validate().is_err());
    }
}
