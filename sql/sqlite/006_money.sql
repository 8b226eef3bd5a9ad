-- Issue 10: money (SPEC 10). Amounts are kopecks in integers (never floating point); a
-- positive balance is a debt, a negative one an overpayment. consumption is thousandths of
-- a cubic metre, like readings; a period is the month "YYYY-MM".

-- The office's payment requisites, printed on the bill and put into its payment QR code
-- (ГОСТ Р 56042-2014). Empty until support staff set them (lkk-admin offices update).
ALTER TABLE offices ADD COLUMN payee TEXT NOT NULL DEFAULT '';
ALTER TABLE offices ADD COLUMN inn TEXT NOT NULL DEFAULT '';
ALTER TABLE offices ADD COLUMN kpp TEXT NOT NULL DEFAULT '';
ALTER TABLE offices ADD COLUMN bank TEXT NOT NULL DEFAULT '';
ALTER TABLE offices ADD COLUMN bic TEXT NOT NULL DEFAULT '';
ALTER TABLE offices ADD COLUMN settlement_account TEXT NOT NULL DEFAULT '';
ALTER TABLE offices ADD COLUMN corr_account TEXT NOT NULL DEFAULT '';

-- One statement per billing account and month (lkk-admin statements import upserts by it).
-- imported_at is when the month first arrived; a re-import keeps it.
CREATE TABLE statements (
    id                 INTEGER PRIMARY KEY,
    billing_account_id INTEGER NOT NULL REFERENCES billing_accounts (id),
    period             TEXT    NOT NULL,
    opening_balance    INTEGER NOT NULL,
    accrued            INTEGER NOT NULL,
    paid               INTEGER NOT NULL,
    closing_balance    INTEGER NOT NULL,
    consumption        INTEGER,
    tariff             INTEGER,
    imported_at        INTEGER NOT NULL,
    UNIQUE (billing_account_id, period)
);
CREATE INDEX statements_period ON statements (period);

-- Payments as billing received them; payment_id is unique within the office
-- (lkk-admin payments import upserts by office and payment_id).
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY,
    office_code        TEXT    NOT NULL REFERENCES offices (code),
    payment_id         TEXT    NOT NULL,
    billing_account_id INTEGER NOT NULL REFERENCES billing_accounts (id),
    paid_on            TEXT    NOT NULL,
    amount             INTEGER NOT NULL,
    channel            TEXT    NOT NULL DEFAULT '',
    UNIQUE (office_code, payment_id)
);
CREATE INDEX payments_account_date ON payments (billing_account_id, paid_on);
