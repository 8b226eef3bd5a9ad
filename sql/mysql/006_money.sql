-- Issue 10: money (SPEC 10); the twin of sql/sqlite/006_money.sql. Amounts are kopecks,
-- consumption thousandths of a cubic metre, a period the month "YYYY-MM".
-- Field lengths are those of the payment QR code (ГОСТ Р 56042-2014): Name 160, BankName 45.
ALTER TABLE offices
    ADD COLUMN payee              VARCHAR(160) NOT NULL DEFAULT '',
    ADD COLUMN inn                VARCHAR(12)  NOT NULL DEFAULT '',
    ADD COLUMN kpp                VARCHAR(9)   NOT NULL DEFAULT '',
    ADD COLUMN bank               VARCHAR(45)  NOT NULL DEFAULT '',
    ADD COLUMN bic                VARCHAR(9)   NOT NULL DEFAULT '',
    ADD COLUMN settlement_account VARCHAR(20)  NOT NULL DEFAULT '',
    ADD COLUMN corr_account       VARCHAR(20)  NOT NULL DEFAULT '';

CREATE TABLE statements (
    id                 BIGINT  NOT NULL AUTO_INCREMENT PRIMARY KEY,
    billing_account_id BIGINT  NOT NULL,
    period             CHAR(7) NOT NULL,
    opening_balance    BIGINT  NOT NULL,
    accrued            BIGINT  NOT NULL,
    paid               BIGINT  NOT NULL,
    closing_balance    BIGINT  NOT NULL,
    consumption        BIGINT  NULL,
    tariff             BIGINT  NULL,
    imported_at        BIGINT  NOT NULL,
    UNIQUE KEY statements_account_period (billing_account_id, period),
    KEY statements_period (period),
    CONSTRAINT statements_account_fk FOREIGN KEY (billing_account_id)
        REFERENCES billing_accounts (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE payments (
    id                 BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    office_code        VARCHAR(32) NOT NULL,
    payment_id         VARCHAR(64) NOT NULL,
    billing_account_id BIGINT      NOT NULL,
    paid_on            CHAR(10)    NOT NULL,
    amount             BIGINT      NOT NULL,
    channel            VARCHAR(255) NOT NULL DEFAULT '',
    UNIQUE KEY payments_office_payment (office_code, payment_id),
    KEY payments_account_date (billing_account_id, paid_on),
    CONSTRAINT payments_office_fk FOREIGN KEY (office_code) REFERENCES offices (code),
    CONSTRAINT payments_account_fk FOREIGN KEY (billing_account_id)
        REFERENCES billing_accounts (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
