-- Meters and their monthly readings (SPEC 9). Values are thousandths of a cubic metre
-- (exact whatever readings.decimals allows); a period is the month "YYYY-MM".

-- Imported by support staff (lkk-admin meters import); serial is unique within the account.
CREATE TABLE meters (
    id                 INTEGER PRIMARY KEY,
    billing_account_id INTEGER NOT NULL REFERENCES billing_accounts (id),
    serial             TEXT    NOT NULL,
    name               TEXT    NOT NULL DEFAULT '',
    model              TEXT    NOT NULL DEFAULT '',
    digits             INTEGER NOT NULL DEFAULT 5,
    verification_due   TEXT    NOT NULL DEFAULT '',
    UNIQUE (billing_account_id, serial)
);

-- One reading per meter and month: a second one in the same month replaces the first (the
-- audit log keeps both). source: 'subscriber' (the portal) or 'utility' (the import).
CREATE TABLE readings (
    id           INTEGER PRIMARY KEY,
    meter_id     INTEGER NOT NULL REFERENCES meters (id),
    period       TEXT    NOT NULL,
    value        INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('subscriber', 'utility')),
    submitted_at INTEGER NOT NULL,
    user_id      INTEGER,
    UNIQUE (meter_id, period)
);
CREATE INDEX readings_period ON readings (period);
