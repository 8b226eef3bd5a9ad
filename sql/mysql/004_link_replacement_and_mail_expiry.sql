-- Issue 8; the twin of sql/sqlite/004_link_replacement_and_mail_expiry.sql.
-- tokens.replaced_at: a newer registration of the pending e-mail replaced this link.
-- outbox.expires_at: when the mail's link expires; NULL means created_at + [mail] max_age.
ALTER TABLE tokens ADD COLUMN replaced_at BIGINT NULL;
ALTER TABLE outbox ADD COLUMN expires_at BIGINT NULL;
