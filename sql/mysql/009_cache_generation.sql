-- Issue 11; the twin of sql/sqlite/009_cache_generation.sql.
-- cache_generation: the read cache's generation (README "Read cache") when sessions are kept
-- in the database. One row; the session lookup reads its value in the same query as the
-- session, and every committed write of cached data replaces it with a new random value. Random
-- rather than a count, so a database restored from a backup never hands back a value a worker
-- still keeps answers under. Writes to it do not count as changes of cached data.
CREATE TABLE cache_generation (
    id    TINYINT     NOT NULL PRIMARY KEY,
    value VARCHAR(64) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO cache_generation (id, value) VALUES (1, SHA2(CONCAT(UUID(), RAND(), NOW(6)), 256));
