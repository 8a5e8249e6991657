//! Conformance checks of events and definitions.

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;
use weft_core::Event;

use super::us;
use crate::{Definition, EventFilter, Store, StoreError};

/// Events: stored once by id, read newest first, filtered by name, prefix,
/// resource and time.
pub async fn events_written_and_filtered<S: Store>(store: &S) {
    let t = us(Utc::now());
    let mut events = Vec::new();
    for (i, (name, resource)) in [
        ("prefect.flow-run.Completed", "prefect.flow-run.a"),
        ("prefect.flow-run.Failed", "prefect.flow-run.b"),
        ("file.uploaded", "s3.bucket.x"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = Event::new(name, resource);
        e.occurred = t + Duration::seconds(i as i64);
        e.received = e.occurred;
        e.payload = json!({"i": i});
        events.push(e);
    }
    store.write_events(&events).await.expect("write");
    store.write_events(&events[..1]).await.expect("write again");
    let all = store
        .read_events(&EventFilter::default())
        .await
        .expect("read");
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[0], events[2], "newest first, unchanged");
    let names = |f: EventFilter| async move {
        store
            .read_events(&f)
            .await
            .expect("read")
            .into_iter()
            .map(|e| e.event)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(EventFilter {
            prefixes: Some(vec!["prefect.flow-run.".into()]),
            ..Default::default()
        })
        .await,
        ["prefect.flow-run.Failed", "prefect.flow-run.Completed"]
    );
    assert_eq!(
        names(EventFilter {
            names: Some(vec!["file.uploaded".into()]),
            ..Default::default()
        })
        .await,
        ["file.uploaded"]
    );
    assert_eq!(
        names(EventFilter {
            resource_ids: Some(vec!["prefect.flow-run.a".into()]),
            ..Default::default()
        })
        .await,
        ["prefect.flow-run.Completed"]
    );
    assert_eq!(
        names(EventFilter {
            since: Some(t + Duration::seconds(1)),
            until: Some(t + Duration::seconds(1)),
            ..Default::default()
        })
        .await,
        ["prefect.flow-run.Failed"]
    );
    assert_eq!(
        names(EventFilter {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
}

/// Definitions: put, replace, read, list by name, unique names per kind,
/// delete.
pub async fn definitions_crud<S: Store>(store: &S) {
    let now = us(Utc::now());
    let a = Definition {
        id: Uuid::now_v7(),
        name: "on-failure".into(),
        body: json!({"enabled": true}),
        created: now,
        updated: now,
    };
    store.put_definition("automation", &a).await.expect("put");
    // Another kind may use the same name.
    store.put_definition("webhook", &a).await.expect("put");
    let mut b = a.clone();
    b.id = Uuid::now_v7();
    match store.put_definition("automation", &b).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("on-failure"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    b.name = "another".into();
    store.put_definition("automation", &b).await.expect("put");
    let mut changed = a.clone();
    changed.body = json!({"enabled": false});
    store
        .put_definition("automation", &changed)
        .await
        .expect("replace");
    let read = store
        .read_definition("automation", a.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.body, json!({"enabled": false}));
    let names: Vec<String> = store
        .list_definitions("automation")
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["another", "on-failure"]);
    assert!(
        store
            .delete_definition("automation", a.id)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_definition("automation", a.id)
            .await
            .expect("again")
    );
    assert_eq!(
        store.list_definitions("webhook").await.expect("list").len(),
        1
    );
}
