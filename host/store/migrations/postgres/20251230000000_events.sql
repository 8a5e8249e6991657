-- Events (Prefect's shape: a name, the resource it is about, related
-- resources, a payload), newest read first; and definitions, named JSON
-- documents of one kind each (automations, webhooks).
CREATE TABLE events (
    id          TEXT COLLATE "C" PRIMARY KEY,
    occurred    TIMESTAMPTZ NOT NULL,
    event       TEXT COLLATE "C" NOT NULL,
    resource_id TEXT COLLATE "C" NOT NULL,
    resource    TEXT NOT NULL,
    related     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received    TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_occurred ON events (occurred);
CREATE INDEX events_event ON events (event, occurred);
CREATE INDEX events_resource ON events (resource_id, occurred);

CREATE TABLE definitions (
    kind    TEXT COLLATE "C" NOT NULL,
    id      TEXT COLLATE "C" NOT NULL,
    name    TEXT COLLATE "C" NOT NULL,
    body    TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, name)
);
