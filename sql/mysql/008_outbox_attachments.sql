-- Issue 10; the twin of sql/sqlite/008_outbox_attachments.sql.
-- outbox.attachments: the files attached to a mail, as a JSON array of
-- {"source", "file_name", "content_type"}. Only where each file comes from is kept (e.g.
-- "bill/<user>/<link>/<YYYY-MM>", the PDF bill of SPEC 10): the content is rendered when the
-- outbox sends the mail, so the database holds no blobs. NULL or '' for none.
ALTER TABLE outbox ADD COLUMN attachments TEXT NULL;
-- The bill mail looks for the months a statements import has just added.
CREATE INDEX statements_imported ON statements (imported_at);
