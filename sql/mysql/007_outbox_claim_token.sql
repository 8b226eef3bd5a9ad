-- Issue 14; the twin of sql/sqlite/007_outbox_claim_token.sql.
-- outbox.claim_token: the token of the claimer that holds the mail's lease. A claim marks due
-- rows by a conditional UPDATE and reads back the rows holding its token: exactly once across
-- the nodes of a Galera cluster, which do not see each other's SELECT ... FOR UPDATE locks.
ALTER TABLE outbox ADD COLUMN claim_token VARCHAR(64) NULL;
CREATE INDEX outbox_claim ON outbox (claim_token);
