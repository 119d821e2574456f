-- Performance (SPEC §5): snapshot CSV uploads kept between validation and import, and the
-- indexes the dashboards read by.

-- A snapshot CSV: validated when uploaded, kept until a person imports its good rows or cancels,
-- so what is imported is exactly what the report showed. Small files: the validated rows are
-- kept as JSON, not the file.
CREATE TABLE snapshot_imports (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    campaign_id uuid NOT NULL,
    filename    text NOT NULL,
    encoding    text NOT NULL,
    status      text NOT NULL DEFAULT 'validated' CHECK (status IN ('validated', 'imported', 'cancelled')),
    total_rows  integer NOT NULL CHECK (total_rows >= 0),
    good_rows   integer NOT NULL CHECK (good_rows >= 0),
    error_rows  integer NOT NULL CHECK (error_rows >= 0),
    -- [{line, post_id, captured_at, views, likes, comments, shares, avg_watch_seconds}]
    rows        jsonb NOT NULL,
    -- [{line, column, value, key}]
    errors      jsonb NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id)
);
CREATE INDEX snapshot_imports_campaign_idx ON snapshot_imports (tenant_id, campaign_id, created_at DESC);

GRANT SELECT, INSERT, UPDATE ON snapshot_imports TO sextant_app, sextant_system;
ALTER TABLE snapshot_imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE snapshot_imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON snapshot_imports
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The dashboards: a campaign's collaborations, and its orders by collaboration and day.
CREATE INDEX collaborations_campaign_idx ON collaborations (tenant_id, campaign_id);
CREATE INDEX link_clicks_collaboration_day_idx ON link_clicks (tenant_id, collaboration_id)
    INCLUDE (at, bot, unique_click);
