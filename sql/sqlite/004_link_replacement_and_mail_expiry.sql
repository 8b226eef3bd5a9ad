-- Issue 8. A registration of a still-pending e-mail replaces its older confirmation links:
-- following a replaced one says so (replaced_at), instead of confirming with the old password.
-- A mail is kept through long SMTP outages until it is no longer useful: outbox.expires_at is
-- when its link expires (confirmation, reset); NULL means created_at + [mail] max_age.
ALTER TABLE tokens ADD COLUMN replaced_at INTEGER;
ALTER TABLE outbox ADD COLUMN expires_at INTEGER;
