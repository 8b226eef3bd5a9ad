-- The portal's schema for SQLite (the embedded default). Applied on open inside one
-- transaction and recorded in schema_migrations; never edit a released migration, add 002_...
-- Times are Unix seconds (UTC), amounts kopecks.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
);

-- Cabinets. email is the canonical form (rules::normalize_email), so a plain UNIQUE is the
-- case-insensitive identity; an erased cabinet keeps its row as "deleted-<id>".
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'active', 'blocked', 'deleted')),
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER
);

-- Which version of the consent document a cabinet accepted, when and from where.
CREATE TABLE consents (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    document_version TEXT    NOT NULL,
    accepted_at      INTEGER NOT NULL,
    ip               TEXT    NOT NULL DEFAULT '',
    user_agent       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX consents_user ON consents (user_id);

-- Confirmation and password-reset tokens: only their SHA-256 (hex) is kept.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('confirm', 'reset')),
    hash       TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX tokens_user_kind ON tokens (user_id, kind);

-- The gas company's offices; their phones are shown when linking is throttled.
CREATE TABLE offices (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    phones TEXT NOT NULL DEFAULT '',
    email  TEXT NOT NULL DEFAULT ''
);

-- Imported from billing; account_number and surname_key are the normalised forms that
-- linking compares against.
CREATE TABLE billing_accounts (
    id                INTEGER PRIMARY KEY,
    office_code       TEXT    NOT NULL REFERENCES offices (code),
    account_number    TEXT    NOT NULL,
    surname           TEXT    NOT NULL,
    surname_key       TEXT    NOT NULL,
    last_payment      INTEGER NOT NULL DEFAULT 0,
    last_payment_date TEXT    NOT NULL DEFAULT '',
    address           TEXT    NOT NULL DEFAULT '',
    balance           INTEGER,
    UNIQUE (office_code, account_number)
);

-- A billing account may be linked to several cabinets (a household), once per cabinet.
CREATE TABLE links (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users (id),
    billing_account_id INTEGER NOT NULL REFERENCES billing_accounts (id),
    linked_at          INTEGER NOT NULL,
    UNIQUE (user_id, billing_account_id)
);
CREATE INDEX links_account ON links (billing_account_id);

-- Mails written in the same transaction as the change that caused them; a claimer leases
-- due rows (lease_until) so several hosts never send one mail twice.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    sent_at         INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Security events. No foreign key: a failed login of an unknown e-mail has no user, and
-- the trail must outlive every other row.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id INTEGER,
    event   TEXT    NOT NULL,
    ip      TEXT    NOT NULL DEFAULT '',
    detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_user ON audit_log (user_id, id);

-- Sessions when [sessions] url = "storage". No foreign key: the session store contract is
-- shared with Redis, which knows nothing of users.
CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_created ON sessions (created_at);

-- Fixed-window throttle counters ("login:email:x@y", ...).
CREATE TABLE counters (
    key        TEXT    PRIMARY KEY,
    count      INTEGER NOT NULL,
    window_end INTEGER NOT NULL
);
CREATE INDEX counters_window_end ON counters (window_end);
