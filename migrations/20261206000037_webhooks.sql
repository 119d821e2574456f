-- Outgoing webhooks (issue 19): a tenant's own URLs told about the loop's events. An endpoint
-- (the owner's: a URL, a format — Sextant's signed JSON or a Feishu / DingTalk / WeCom group bot —
-- and the events it wants), a delivery queue written in the same transaction as the action that
-- caused the event (an outbox), and one row per try as the delivery log.
CREATE TABLE webhook_endpoints (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    format      text NOT NULL CHECK (format IN ('sextant', 'feishu', 'dingtalk', 'wecom')),
    -- Signs each delivery: generated and shown once for 'sextant'; a group bot's own signing
    -- secret (optional) for the bots. Kept as written: signing needs it.
    secret      text CHECK (secret IS NULL OR length(secret) BETWEEN 1 AND 200),
    events      text[] NOT NULL CHECK (
        cardinality(events) > 0
        AND events <@ ARRAY['shortlist.sent', 'shortlist.decided', 'post.late', 'rating.due',
                            'tier.changed', 'settlement.finalized']
    ),
    -- The language of a group bot's message.
    lang        text NOT NULL DEFAULT 'zh-CN' CHECK (lang IN ('zh-CN', 'en')),
    -- Where this server is reached (the origin the owner used when adding it): the links in the
    -- messages, when `SEXTANT_PUBLIC_URL` does not say.
    link_origin text NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Set while the owner has it switched off: nothing is queued for it, and what was waiting fails.
    disabled_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_endpoints_live_idx ON webhook_endpoints (tenant_id) WHERE disabled_at IS NULL;

CREATE TABLE webhook_deliveries (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    endpoint_id     uuid NOT NULL,
    event           text NOT NULL CHECK (event IN ('shortlist.sent', 'shortlist.decided',
                        'post.late', 'rating.due', 'tier.changed', 'settlement.finalized', 'ping')),
    -- One event delivered to several endpoints shares its id (the payload's `id`).
    event_id        uuid NOT NULL,
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When the worker may take it next (pending only); a worker that takes it pushes this on by
    -- a lease, so another server does not take it meanwhile.
    next_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
        ON DELETE CASCADE,
    CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx
    ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC);

CREATE TABLE webhook_attempts (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    delivery_id uuid NOT NULL,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    at          timestamptz NOT NULL,
    -- The HTTP status, or the error when there was no answer (or the answer said no).
    status      integer,
    error       text,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, delivery_id, attempt),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id)
        ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO sextant_app, sextant_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_deliveries TO sextant_app, sextant_system;
GRANT SELECT, INSERT, DELETE ON webhook_attempts TO sextant_app, sextant_system;

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_attempts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
