-- The portal's schema for MySQL/MariaDB (InnoDB, utf8mb4), applied by `lkk-admin migrate`
-- and recorded in schema_migrations. The twin of sql/sqlite/001_init.sql: same tables,
-- columns and meaning. Times are Unix seconds (UTC), amounts kopecks.
-- Statements end with ";" at the end of a line (the migration runner splits there).

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INT    NOT NULL PRIMARY KEY,
    applied_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- email is the canonical form; a binary collation keeps identity exactly that form.
CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email         VARCHAR(254) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    status        VARCHAR(16)  NOT NULL DEFAULT 'pending',
    created_at    BIGINT       NOT NULL,
    confirmed_at  BIGINT       NULL,
    UNIQUE KEY users_email (email),
    CONSTRAINT users_status CHECK (status IN ('pending', 'active', 'blocked', 'deleted'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE consents (
    id               BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id          BIGINT       NOT NULL,
    document_version VARCHAR(64)  NOT NULL,
    accepted_at      BIGINT       NOT NULL,
    ip               VARCHAR(64)  NOT NULL DEFAULT '',
    user_agent       VARCHAR(512) NOT NULL DEFAULT '',
    KEY consents_user (user_id),
    CONSTRAINT consents_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE tokens (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind       VARCHAR(16) NOT NULL,
    hash       CHAR(64)    NOT NULL,
    user_id    BIGINT      NOT NULL,
    created_at BIGINT      NOT NULL,
    expires_at BIGINT      NOT NULL,
    used_at    BIGINT      NULL,
    UNIQUE KEY tokens_hash (hash),
    KEY tokens_user_kind (user_id, kind),
    CONSTRAINT tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT tokens_kind CHECK (kind IN ('confirm', 'reset'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE offices (
    code   VARCHAR(32)  NOT NULL PRIMARY KEY,
    name   VARCHAR(255) NOT NULL,
    phones VARCHAR(255) NOT NULL DEFAULT '',
    email  VARCHAR(254) NOT NULL DEFAULT ''
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE billing_accounts (
    id                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    office_code       VARCHAR(32)  NOT NULL,
    account_number    VARCHAR(32)  NOT NULL,
    surname           VARCHAR(255) NOT NULL,
    surname_key       VARCHAR(255) NOT NULL,
    last_payment      BIGINT       NOT NULL DEFAULT 0,
    last_payment_date VARCHAR(10)  NOT NULL DEFAULT '',
    address           VARCHAR(512) NOT NULL DEFAULT '',
    balance           BIGINT       NULL,
    UNIQUE KEY billing_office_account (office_code, account_number),
    CONSTRAINT billing_office_fk FOREIGN KEY (office_code) REFERENCES offices (code)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE links (
    id                 BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id            BIGINT NOT NULL,
    billing_account_id BIGINT NOT NULL,
    linked_at          BIGINT NOT NULL,
    UNIQUE KEY links_user_account (user_id, billing_account_id),
    KEY links_account (billing_account_id),
    CONSTRAINT links_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT links_account_fk FOREIGN KEY (billing_account_id) REFERENCES billing_accounts (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE outbox (
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    recipient       VARCHAR(254) NOT NULL,
    subject         VARCHAR(998) NOT NULL,
    body_text       MEDIUMTEXT   NOT NULL,
    body_html       MEDIUMTEXT   NOT NULL DEFAULT '',
    state           VARCHAR(16)  NOT NULL DEFAULT 'pending',
    attempts        INT          NOT NULL DEFAULT 0,
    created_at      BIGINT       NOT NULL,
    next_attempt_at BIGINT       NOT NULL,
    lease_until     BIGINT       NULL,
    sent_at         BIGINT       NOT NULL DEFAULT 0,
    last_error      TEXT         NOT NULL DEFAULT '',
    KEY outbox_due (state, next_attempt_at),
    CONSTRAINT outbox_state CHECK (state IN ('pending', 'sent', 'failed'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE audit_log (
    id      BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at      BIGINT       NOT NULL,
    user_id BIGINT       NULL,
    event   VARCHAR(64)  NOT NULL,
    ip      VARCHAR(64)  NOT NULL DEFAULT '',
    detail  VARCHAR(1024) NOT NULL DEFAULT '',
    KEY audit_log_user (user_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE sessions (
    id_hash      CHAR(64) NOT NULL PRIMARY KEY,
    user_id      BIGINT   NOT NULL,
    csrf         VARCHAR(64) NOT NULL,
    created_at   BIGINT   NOT NULL,
    last_seen_at BIGINT   NOT NULL,
    KEY sessions_user (user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE counters (
    `key`      VARCHAR(255) NOT NULL PRIMARY KEY,
    count      BIGINT       NOT NULL,
    window_end BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
