-- Notifications (SPEC 11): the twin of sql/sqlite/005_notifications.sql.
-- notification_preferences: no row means off; kind 'readings' (remind_readings) or 'bill'.
-- sent_notifications: its UNIQUE key makes a mail go out once per user, kind, item and month.
-- unsubscribe_tokens: the SHA-256 (hex) of the one-click unsubscribe tokens (RFC 8058).
-- outbox.headers: extra header lines of one mail ("Name: value", one a line).
CREATE TABLE notification_preferences (
    user_id    BIGINT      NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    enabled    TINYINT     NOT NULL DEFAULT 0,
    updated_at BIGINT      NOT NULL,
    PRIMARY KEY (user_id, kind),
    KEY notification_preferences_kind (kind, enabled, user_id),
    CONSTRAINT notification_preferences_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE sent_notifications (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT       NOT NULL,
    kind       VARCHAR(32)  NOT NULL,
    item_key   VARCHAR(128) NOT NULL DEFAULT '',
    period     CHAR(7)      NOT NULL,
    created_at BIGINT       NOT NULL,
    UNIQUE KEY sent_notifications_once (user_id, kind, item_key, period),
    CONSTRAINT sent_notifications_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE unsubscribe_tokens (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    hash       CHAR(64)    NOT NULL,
    user_id    BIGINT      NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    created_at BIGINT      NOT NULL,
    used_at    BIGINT      NULL,
    UNIQUE KEY unsubscribe_tokens_hash (hash),
    CONSTRAINT unsubscribe_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE outbox ADD COLUMN headers TEXT NULL;
