-- SPDX-License-Identifier: MIT
-- pgsift alerts, version 2: alert instances and their history, where rule evaluation
-- stands, the notification outbox, deliveries and their attempts, silences.
-- docs/alerting.md describes every table. Times are Unix microseconds (UTC): "event time"
-- is the logs' time (evaluation), "wall" the clock of the machine running pgsift.

-- One row per alert instance: rule + group_by values + rule labels.
CREATE TABLE IF NOT EXISTS alert_instances (
    instance_key  TEXT    PRIMARY KEY,         -- 32 hex: XXH3-128 of the canonical labels
    rule          TEXT    NOT NULL,
    labels        TEXT    NOT NULL,            -- JSON object (group_by values, rule labels)
    severity      TEXT    NOT NULL,            -- info, warning, critical
    state         TEXT    NOT NULL,            -- inactive pending firing recovering resolved
    active_since  INTEGER NOT NULL DEFAULT 0,  -- event time of the first true evaluation
    fired_at      INTEGER NOT NULL DEFAULT 0,  -- event time it started firing (this episode)
    last_true     INTEGER NOT NULL DEFAULT 0,  -- event time the condition last held
    resolved_at   INTEGER NOT NULL DEFAULT 0,
    last_eval     INTEGER NOT NULL DEFAULT 0,
    episode       INTEGER NOT NULL DEFAULT 0,  -- times it started firing
    value         REAL,                        -- the metric when the condition last held
    annotations   TEXT    NOT NULL DEFAULT '{}', -- JSON, rendered at the last transition
    last_notified INTEGER NOT NULL DEFAULT 0,  -- event time of the last firing/repeat enqueued
    updated_at    INTEGER NOT NULL             -- wall
);
CREATE INDEX IF NOT EXISTS alert_instances_rule ON alert_instances (rule, state);

-- Every transition (pending, firing, recovering, refiring, resolved, cleared).
CREATE TABLE IF NOT EXISTS alert_history (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,  -- event time of the evaluation
    instance_key TEXT    NOT NULL,
    rule         TEXT    NOT NULL,
    transition   TEXT    NOT NULL,
    value        REAL,
    recorded_at  INTEGER NOT NULL   -- wall
);
CREATE INDEX IF NOT EXISTS alert_history_at ON alert_history (at);

-- The last evaluated minute boundary of each rule.
CREATE TABLE IF NOT EXISTS alert_cursors (
    rule      TEXT    PRIMARY KEY,
    last_eval INTEGER NOT NULL      -- event time
);

-- The outbox: one row per (transition, receiver), written in the transaction that
-- changes the instance's state.
CREATE TABLE IF NOT EXISTS notifications (
    id           INTEGER PRIMARY KEY,
    receiver     TEXT    NOT NULL,
    instance_key TEXT    NOT NULL,
    episode      INTEGER NOT NULL,
    kind         TEXT    NOT NULL,  -- firing, resolved, repeat
    group_key    TEXT    NOT NULL,  -- route group ({rule="...",...})
    alert        TEXT    NOT NULL,  -- JSON: the alert as receivers get it
    event_at     INTEGER NOT NULL,  -- event time of the transition
    created_at   INTEGER NOT NULL,  -- wall
    status       TEXT    NOT NULL,  -- pending batched delivered failed dropped silenced
                                    -- inhibited replay
    delivery_id  TEXT,              -- the message carrying it, once batched
    note         TEXT               -- why it was dropped, silenced, inhibited ...
);
CREATE INDEX IF NOT EXISTS notifications_status ON notifications (status, receiver);
CREATE INDEX IF NOT EXISTS notifications_instance ON notifications (instance_key, receiver);

-- Messages: notifications for one receiver sent (and retried) together. The id is the
-- idempotency key receivers see (webhook-id, Message-ID); it never changes.
CREATE TABLE IF NOT EXISTS deliveries (
    id              TEXT    PRIMARY KEY,
    receiver        TEXT    NOT NULL,
    group_key       TEXT    NOT NULL,
    status          TEXT    NOT NULL,  -- pending delivered failed gave_up
    model           TEXT    NOT NULL,  -- JSON message (rendered per receiver when sent)
    created_at      INTEGER NOT NULL,  -- wall
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,  -- wall
    last_attempt_at INTEGER,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, receiver, created_at);

-- The delivery log: every attempt and what came back.
CREATE TABLE IF NOT EXISTS delivery_attempts (
    id              INTEGER PRIMARY KEY,
    delivery_id     TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    at              INTEGER NOT NULL,  -- wall
    duration_ms     REAL    NOT NULL,
    status          INTEGER,           -- HTTP status or SMTP reply, NULL when none came
    verdict         TEXT    NOT NULL,  -- ok retry permanent disable gave_up
    error           TEXT,
    next_attempt_at INTEGER
);
CREATE INDEX IF NOT EXISTS delivery_attempts_delivery ON delivery_attempts (delivery_id);

-- Silences mute notifications (never state) of alerts matching all matchers.
CREATE TABLE IF NOT EXISTS silences (
    id         INTEGER PRIMARY KEY,
    matchers   TEXT    NOT NULL,  -- JSON array of "label=value", "label!=value", "label=~re"
    starts_at  INTEGER NOT NULL,  -- wall
    ends_at    INTEGER NOT NULL,  -- wall
    comment    TEXT    NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    expired_at INTEGER            -- set by `pgsift silence expire`
);

-- Receivers that answered 410 Gone: nothing more is sent to them until re-enabled.
CREATE TABLE IF NOT EXISTS receiver_state (
    receiver    TEXT    PRIMARY KEY,
    disabled_at INTEGER,
    reason      TEXT
);

PRAGMA user_version = 2;
