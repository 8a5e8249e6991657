//! Event triggers: whether an event matches an automation's trigger, and
//! counting matches within the trigger's window (per `for_each` key).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use weft_core::Event;
use weft_core::event::{Labels, normalize_name};

use crate::models::automation::{LabelPatterns, Trigger};

/// Whether `value` matches `pattern` (`*` anything, `x*` by prefix).
fn matches_pattern(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

fn labels_match(patterns: &LabelPatterns, labels: &Labels) -> bool {
    patterns.iter().all(|(label, ps)| {
        labels
            .get(label)
            .is_some_and(|v| ps.all().iter().any(|p| matches_pattern(p, v)))
    })
}

/// Whether `event` is one `trigger` counts.
pub fn matches(trigger: &Trigger, event: &Event) -> bool {
    let name_ok = trigger.expect.is_empty()
        || trigger
            .expect
            .iter()
            .any(|e| matches_pattern(&normalize_name(e), &event.event));
    name_ok
        && labels_match(&trigger.match_resource, &event.resource)
        && (trigger.match_related.is_empty()
            || event
                .related
                .iter()
                .any(|r| labels_match(&trigger.match_related, r)))
}

/// Checks what weft can evaluate.
pub fn check(trigger: &Trigger) -> Result<(), String> {
    if trigger.kind != "event" {
        return Err(format!(
            "trigger type {:?} is not supported: weft has event triggers",
            trigger.kind
        ));
    }
    if trigger.posture != "Reactive" {
        return Err(format!(
            "posture {:?} is not supported: weft's triggers are Reactive",
            trigger.posture
        ));
    }
    if !trigger.after.is_empty() {
        return Err("`after` is not supported yet".into());
    }
    if trigger.threshold == 0 {
        return Err("`threshold` must be at least 1".into());
    }
    if !(trigger.within.is_finite() && trigger.within >= 0.0 && trigger.within < 1e9) {
        return Err("`within` must be a number of seconds".into());
    }
    Ok(())
}

/// The most `for_each` keys one trigger tracks; past it, keys whose
/// events fell out of the window are dropped, then (if still too many)
/// every count starts again.
const MAX_KEYS: usize = 10_000;

/// Matching events of one trigger, per `for_each` key, within its window.
#[derive(Debug, Default)]
pub struct Counter {
    seen: HashMap<String, VecDeque<DateTime<Utc>>>,
}

impl Counter {
    /// Counts `event` (which matches `trigger`); true when the trigger
    /// fires, which starts its count again.
    pub fn count(&mut self, trigger: &Trigger, event: &Event) -> bool {
        let key: Vec<&str> = trigger
            .for_each
            .iter()
            .map(|l| event.resource.get(l).map_or("", String::as_str))
            .collect();
        let times = self.seen.entry(key.join("\u{1f}")).or_default();
        times.push_back(event.occurred);
        if trigger.within > 0.0 {
            let window = Duration::milliseconds((trigger.within * 1000.0) as i64);
            while times.front().is_some_and(|t| *t < event.occurred - window) {
                times.pop_front();
            }
        }
        let fired = times.len() as u32 >= trigger.threshold;
        if fired {
            times.clear();
        }
        if self.seen.len() > MAX_KEYS {
            let window = Duration::milliseconds((trigger.within * 1000.0) as i64);
            self.seen.retain(|_, t| {
                t.back()
                    .is_some_and(|last| trigger.within > 0.0 && *last >= event.occurred - window)
            });
            if self.seen.len() > MAX_KEYS {
                self.seen.clear();
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn trigger(v: serde_json::Value) -> Trigger {
        serde_json::from_value(v).unwrap()
    }

    fn event(name: &str, resource: &str, secs: i64) -> Event {
        let mut e = Event::new(name, resource);
        e.occurred = DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(secs);
        e
    }

    #[test]
    fn names_resources_and_related_resources_match_patterns() {
        let t = trigger(json!({
            "expect": ["weft.flow-run.Failed", "prefect.flow-run.Crash*"],
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
            "match_related": {"prefect.resource.role": "deployment",
                              "prefect.resource.id": ["prefect.deployment.d1", "prefect.deployment.d2"]},
        }));
        let mut failed = event("prefect.flow-run.Failed", "prefect.flow-run.r1", 0);
        assert!(!matches(&t, &failed), "no related deployment yet");
        let mut related = Labels::new();
        related.insert("prefect.resource.id".into(), "prefect.deployment.d2".into());
        related.insert("prefect.resource.role".into(), "deployment".into());
        failed.related.push(related);
        assert!(matches(&t, &failed));
        let mut crashed = failed.clone();
        crashed.event = "prefect.flow-run.Crashed".into();
        assert!(matches(&t, &crashed));
        let mut completed = failed.clone();
        completed.event = "prefect.flow-run.Completed".into();
        assert!(!matches(&t, &completed));
        let mut task = failed.clone();
        task.resource
            .insert("prefect.resource.id".into(), "prefect.task-run.t".into());
        assert!(!matches(&t, &task));
        assert!(
            matches(&trigger(json!({})), &completed),
            "empty matches all"
        );
    }

    #[test]
    fn thresholds_count_within_the_window_per_key() {
        let t = trigger(json!({"threshold": 3, "within": 60, "for_each": ["prefect.resource.id"]}));
        let mut c = Counter::default();
        assert!(!c.count(&t, &event("x", "a", 0)));
        assert!(!c.count(&t, &event("x", "a", 10)));
        assert!(!c.count(&t, &event("x", "b", 20)), "b counts apart");
        assert!(
            c.count(&t, &event("x", "a", 30)),
            "third a within 60 s fires"
        );
        assert!(!c.count(&t, &event("x", "a", 31)), "the count starts again");
        assert!(!c.count(&t, &event("x", "a", 32)));
        assert!(
            !c.count(&t, &event("x", "a", 200)),
            "the earlier two fell out"
        );
        let once = trigger(json!({}));
        assert!(c.count(&once, &event("x", "a", 0)));
    }

    #[test]
    fn the_keys_tracked_stay_bounded() {
        let t = trigger(json!({"threshold": 2, "within": 10, "for_each": ["prefect.resource.id"]}));
        let mut c = Counter::default();
        for i in 0..(MAX_KEYS as i64 + 10) {
            c.count(&t, &event("x", &format!("r{i}"), i));
        }
        assert!(c.seen.len() <= MAX_KEYS, "{}", c.seen.len());
        // A key still inside the window keeps its count.
        let last = MAX_KEYS as i64 + 9;
        assert!(c.count(&t, &event("x", &format!("r{last}"), last + 1)));
    }

    #[test]
    fn unsupported_triggers_are_refused() {
        assert!(check(&trigger(json!({"posture": "Proactive"}))).is_err());
        assert!(check(&trigger(json!({"type": "compound"}))).is_err());
        assert!(check(&trigger(json!({"threshold": 0}))).is_err());
        assert!(check(&trigger(json!({"after": ["x"]}))).is_err());
        assert!(check(&trigger(json!({"threshold": 2, "within": 30}))).is_ok());
    }
}
