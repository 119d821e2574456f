-- Intake (campaigns and their transitions), shortlists, collaborations with versioned terms,
-- tracked links, and platform settings (matching weights).

CREATE TABLE platform_settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_by  uuid REFERENCES users (id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON platform_settings TO sextant_app;
GRANT SELECT, INSERT, UPDATE ON platform_settings TO sextant_system;

CREATE TABLE campaigns (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    code            text,
    state           text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'submitted', 'matching',
                        'shortlist_sent', 'contracting', 'running', 'evaluating', 'closed', 'cancelled')),
    title           text NOT NULL,
    shop_id         uuid,
    markets         text[] NOT NULL DEFAULT '{}',
    -- Every intake field as validated (campaigns::domain::Campaign).
    data            jsonb NOT NULL,
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    submitted_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, shop_id) REFERENCES shops (tenant_id, id)
);

CREATE TABLE campaign_transitions (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    campaign_id     uuid NOT NULL,
    from_state      text NOT NULL,
    to_state        text NOT NULL,
    transition      text NOT NULL,
    actor_id        uuid REFERENCES users (id),
    actor_label     text NOT NULL,
    reason          text,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id)
);
CREATE INDEX campaign_transitions_campaign_idx ON campaign_transitions (tenant_id, campaign_id, at);

-- One row per creator offered for a campaign, ever: a rejected creator never comes back.
CREATE TABLE shortlist_entries (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    campaign_id     uuid NOT NULL,
    creator_id      uuid NOT NULL REFERENCES creators (id),
    round           integer NOT NULL,
    note            text NOT NULL DEFAULT '',
    -- Frozen at sending time (weights may change later).
    score           numeric(6,2) NOT NULL,
    breakdown       jsonb NOT NULL,
    decision        text CHECK (decision IN ('approved', 'rejected')),
    decision_reason text,
    decided_by      uuid REFERENCES users (id),
    decided_at      timestamptz,
    created_by      uuid REFERENCES users (id),
    sent_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, campaign_id, creator_id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id)
);

CREATE TABLE collaborations (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    campaign_id     uuid NOT NULL,
    creator_id      uuid NOT NULL REFERENCES creators (id),
    state           text NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'accepted',
                        'sample_shipped', 'sample_delivered', 'in_review', 'published', 'tracking',
                        'evaluating', 'rated', 'settled', 'cancelled', 'breached')),
    discount_code   text NOT NULL,
    link_slug       text NOT NULL UNIQUE,
    current_version integer NOT NULL DEFAULT 1,
    sample_carrier  text,
    sample_tracking text,
    sample_shipped_at   timestamptz,
    sample_delivered_at timestamptz,
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, discount_code),
    UNIQUE (tenant_id, campaign_id, creator_id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id)
);

-- Every version of the terms is kept; from acceptance on a change is an amendment with a reason.
CREATE TABLE contract_versions (
    tenant_id        uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    version          integer NOT NULL,
    terms            jsonb NOT NULL,
    reason           text,
    created_by       uuid REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, collaboration_id, version),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id)
);

CREATE TABLE contract_transitions (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    from_state       text NOT NULL,
    to_state         text NOT NULL,
    event            text NOT NULL,
    actor_id         uuid REFERENCES users (id),
    actor_label      text NOT NULL,
    reason           text,
    at               timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id)
);

GRANT SELECT, INSERT, UPDATE ON campaigns, shortlist_entries, collaborations
    TO sextant_app, sextant_system;
-- Transitions and term versions are history: appended, never changed.
GRANT SELECT, INSERT ON campaign_transitions, contract_versions, contract_transitions
    TO sextant_app, sextant_system;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['campaigns', 'campaign_transitions', 'shortlist_entries',
                             'collaborations', 'contract_versions', 'contract_transitions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
END
$$;
