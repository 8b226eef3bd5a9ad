-- The audit log names the actor of every change (SPEC 4): a subscriber (user id, and the IP
-- already in `ip`) or lkk-admin (the operating-system user and the host). Rows written
-- before this migration keep actor_kind '' (unknown) and their IP.
ALTER TABLE audit_log
    ADD COLUMN actor_kind    VARCHAR(16)  NOT NULL DEFAULT '',
    ADD COLUMN actor_user_id BIGINT       NULL,
    ADD COLUMN actor_os_user VARCHAR(64)  NOT NULL DEFAULT '',
    ADD COLUMN actor_host    VARCHAR(255) NOT NULL DEFAULT '';
