-- Meters and their monthly readings (SPEC 9): the twin of sql/sqlite/003_meters_readings.sql.
-- Values are thousandths of a cubic metre; a period is the month "YYYY-MM".

CREATE TABLE meters (
    id                 BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    billing_account_id BIGINT       NOT NULL,
    serial             VARCHAR(64)  NOT NULL,
    name               VARCHAR(255) NOT NULL DEFAULT '',
    model              VARCHAR(255) NOT NULL DEFAULT '',
    digits             INT          NOT NULL DEFAULT 5,
    verification_due   VARCHAR(10)  NOT NULL DEFAULT '',
    UNIQUE KEY meters_account_serial (billing_account_id, serial),
    CONSTRAINT meters_account_fk FOREIGN KEY (billing_account_id) REFERENCES billing_accounts (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE readings (
    id           BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    meter_id     BIGINT      NOT NULL,
    period       CHAR(7)     NOT NULL,
    value        BIGINT      NOT NULL,
    source       VARCHAR(16) NOT NULL,
    submitted_at BIGINT      NOT NULL,
    user_id      BIGINT      NULL,
    UNIQUE KEY readings_meter_period (meter_id, period),
    KEY readings_period (period),
    CONSTRAINT readings_meter_fk FOREIGN KEY (meter_id) REFERENCES meters (id),
    CONSTRAINT readings_source CHECK (source IN ('subscriber', 'utility'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
