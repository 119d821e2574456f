-- The campaign report's lessons learned (SPEC §11): free text per campaign, written by the
-- seller's people or the account manager; every change audited.
CREATE TABLE campaign_reports (
    tenant_id        uuid NOT NULL,
    campaign_id      uuid NOT NULL,
    lessons          text NOT NULL DEFAULT '' CHECK (length(lessons) <= 5000),
    updated_by       uuid REFERENCES users (id),
    updated_by_label text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, campaign_id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id)
);
GRANT SELECT, INSERT, UPDATE ON campaign_reports TO sextant_app, sextant_system;
ALTER TABLE campaign_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON campaign_reports
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
