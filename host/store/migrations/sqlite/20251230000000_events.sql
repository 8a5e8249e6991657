-- Events (Prefect's shape: a name, the resource it is about, related
-- resources, a payload), newest read first; and definitions, named JSON
-- documents of one kind each (automations, webhooks).
CREATE TABLE events (
    id          TEXT PRIMARY KEY NOT NULL,
    occurred    TEXT NOT NULL,
    event       TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource    TEXT NOT NULL,
    related     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received    TEXT NOT NULL
);
CREATE INDEX events_occurred ON events (occurred);
CREATE INDEX events_event ON events (event, occurred);
CREATE INDEX events_resource ON events (resource_id, occurred);

CREATE TABLE definitions (
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    name    TEXT NOT NULL,
    body    TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, name)
);
