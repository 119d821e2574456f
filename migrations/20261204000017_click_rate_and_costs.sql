-- Clicks beyond a sane rate (issue 12): more than 10 counted clicks a minute from one visitor on
-- one link are still redirected and logged, but flagged like bots (`bot`, so every count that
-- leaves bots out leaves them out too) and marked `over_rate` to tell them from crawlers.
-- (The terms' shipping and other agreed costs need no column: terms are JSON per version.)
ALTER TABLE link_clicks ADD COLUMN over_rate boolean NOT NULL DEFAULT false;

-- The counted clicks of each (link, visitor) in the last minute, oldest first, at most 10. The
-- click writer locks the rows of a batch's visitors, decides there and writes them back in the
-- transaction that logs the batch, so the rate holds across app servers sharing the database.
-- Rows idle for a minute are deleted by the writer.
CREATE TABLE link_click_rates (
    tenant_id        uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    visitor          bytea NOT NULL,
    recent           timestamptz[] NOT NULL,
    PRIMARY KEY (tenant_id, collaboration_id, visitor)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON link_click_rates TO sextant_system;
ALTER TABLE link_click_rates ENABLE ROW LEVEL SECURITY;
ALTER TABLE link_click_rates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON link_click_rates
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Snapshot CSV uploads are streamed into object storage (like order files) and checked from
-- there; the stored file's key is kept with its report (NULL for uploads before this, and for
-- files handed to the action in memory).
ALTER TABLE snapshot_imports ADD COLUMN object_key text;
