-- Notifications (SPEC 11): the subscriber's choices, the record that makes each mail go out
-- once per user, kind and month even when several hosts look at once, the one-click
-- unsubscribe tokens of RFC 8058, and per-mail extra headers in the outbox.

-- One row per user and kind the user ever chose; no row means off (the default). kind is a
-- notification kind: 'readings' (remind_readings) or 'bill' (bill_by_email).
CREATE TABLE notification_preferences (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);
CREATE INDEX notification_preferences_kind ON notification_preferences (kind, enabled, user_id);

-- A notification enqueued in the outbox: written in the same transaction as the outbox row,
-- and the UNIQUE key refuses the second one (another host, another worker). item_key tells
-- apart several mails of one kind in a month (the account of a bill); '' when there is one.
CREATE TABLE sent_notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL,
    item_key   TEXT    NOT NULL DEFAULT '',
    period     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, kind, item_key, period)
);

-- Only the SHA-256 of a token is kept (hex); the token itself is only in the mail's link.
CREATE TABLE unsubscribe_tokens (
    id         INTEGER PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- Extra header lines of one mail ("Name: value", one a line), e.g. List-Unsubscribe.
ALTER TABLE outbox ADD COLUMN headers TEXT;
