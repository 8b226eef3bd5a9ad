-- Issue 14; the twin of sql/mysql/007_outbox_claim_token.sql.
-- outbox.claim_token: the token of the claimer that holds the mail's lease (see there).
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
CREATE INDEX outbox_claim ON outbox (claim_token);
