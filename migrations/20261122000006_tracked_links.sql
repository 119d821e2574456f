-- Tracked links (SPEC §5). The redirect serves slugs from memory; its cache version moves whenever
-- what a slug points at may have changed, and the server reloads its table when it does.
INSERT INTO cache_versions (name, version) VALUES ('tracked_links', 1);

CREATE TRIGGER collaborations_bump_links
    AFTER INSERT OR DELETE OR UPDATE OF link_slug ON collaborations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('tracked_links');
CREATE TRIGGER campaigns_bump_links
    AFTER UPDATE OF data, code ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('tracked_links');
CREATE TRIGGER creators_bump_links
    AFTER UPDATE OF handle ON creators
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('tracked_links');

-- Every redirect, bots included (flagged, never counted). An append-only log written in
-- batches by the click writer; no foreign key, so a batch costs one index insert per row
-- (collaborations are never deleted).
CREATE TABLE link_clicks (
    tenant_id        uuid NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    collaboration_id uuid NOT NULL,
    at               timestamptz NOT NULL,
    -- HMAC of ip + user agent under the day's key: never the raw ip.
    visitor          bytea NOT NULL,
    referer_host     text,
    bot              boolean NOT NULL,
    -- Counted (not a bot) and no counted click from this visitor on this link in the 30
    -- minutes before.
    unique_click     boolean NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX link_clicks_collaboration_idx ON link_clicks (tenant_id, collaboration_id, at);
GRANT SELECT ON link_clicks TO sextant_app;
GRANT SELECT, INSERT ON link_clicks TO sextant_system;
ALTER TABLE link_clicks ENABLE ROW LEVEL SECURITY;
ALTER TABLE link_clicks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON link_clicks
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
