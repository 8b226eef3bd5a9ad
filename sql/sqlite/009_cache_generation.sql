-- Issue 11; the twin of sql/mysql/009_cache_generation.sql.
-- cache_generation: the read cache's generation (README "Read cache") when sessions are kept
-- in the database. One row; the session lookup reads its value in the same query as the
-- session, and every committed write of cached data replaces it with a new random value. Random
-- rather than a count, so a database restored from a backup never hands back a value a worker
-- still keeps answers under. Writes to it do not count as changes of cached data.
CREATE TABLE cache_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value TEXT    NOT NULL
);
INSERT INTO cache_generation (id, value) VALUES (1, lower(hex(randomblob(24))));
