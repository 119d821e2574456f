-- API tokens (the JSON API's front door): per tenant, bound to the person who created them,
-- scope read or write, shown once and stored only as a SHA-256 hash, last-used time, revoked
-- rather than deleted.
CREATE TABLE api_tokens (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    scope        text NOT NULL CHECK (scope IN ('read', 'write')),
    token_hash   bytea NOT NULL UNIQUE,
    -- The first characters of the token, to tell tokens apart on the page.
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   uuid REFERENCES users (id),
    PRIMARY KEY (tenant_id, id)
);
GRANT SELECT, INSERT, UPDATE ON api_tokens TO sextant_app, sextant_system;
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
