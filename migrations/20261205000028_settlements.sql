-- Settlement (SPEC §9, issue 16): finance's monthly rates, each tenant's open period as a draft
-- (recomputable) or under review, the manual adjustments of an open period, and — once finalized
-- — the settlement, its lines and the payments against it in append-only tables the app's roles
-- may only INSERT into and SELECT from, guarded by ENABLE ALWAYS triggers that refuse UPDATE,
-- DELETE and TRUNCATE even for the owner.

-- Finance's rates for a month (a period is a calendar month): 1 unit of `currency` is `rate`
-- units of `target`, a direct pair (never through a third currency). Changing a rate changes no
-- finalized settlement: each keeps the rates it used.
CREATE TABLE fx_rates (
    period      date NOT NULL CHECK (extract(day FROM period) = 1),
    currency    char(3) NOT NULL,
    target      char(3) NOT NULL CHECK (target IN ('CNY', 'USD')),
    rate        numeric(18,8) NOT NULL CHECK (rate > 0),
    entered_by  uuid REFERENCES users (id),
    entered_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (period, currency, target),
    CHECK (currency <> target)
);
GRANT SELECT ON fx_rates TO sextant_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON fx_rates TO sextant_system;

-- The open period of a tenant as finance computed it last: `draft` (recomputed any time) or
-- `review` (sent by its maker, waiting for a different person to finalize). Totals are NULL while
-- a rate is missing (`missing_rates` names the currencies).
CREATE TABLE settlement_drafts (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,
    period              date NOT NULL CHECK (extract(day FROM period) = 1),
    state               text NOT NULL CHECK (state IN ('draft', 'review')),
    settlement_currency char(3) NOT NULL,
    total_seller        numeric(20,4),
    total_creators      numeric(20,4),
    missing_rates       text[] NOT NULL DEFAULT '{}',
    line_count          integer NOT NULL DEFAULT 0,
    -- What creators still owe after the period: [{"collaboration", "currency", "amount"}].
    carried             jsonb NOT NULL DEFAULT '[]',
    computed_by         uuid REFERENCES users (id),
    computed_by_label   text NOT NULL,
    computed_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_to_review_by   uuid REFERENCES users (id),
    sent_to_review_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, period),
    CHECK ((state = 'review') = (sent_to_review_by IS NOT NULL))
);

-- A draft's lines, replaced whole on every computation. `origin` says where the amount comes
-- from: {"posts": [...]} for a fixed fee, {"imports": [...], "orders": n} for commission,
-- {"records": [...]} for deductions, {"adjustment": id} for a manual line.
CREATE TABLE settlement_draft_lines (
    tenant_id        uuid NOT NULL,
    draft_id         uuid NOT NULL,
    id               uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    contract_version integer NOT NULL,
    component        text NOT NULL CHECK (component IN ('fixed_fee', 'commission', 'service_fee',
                         'sample_cost', 'deduction', 'adjustment')),
    payer            text NOT NULL CHECK (payer IN ('seller', 'agency', 'creator', 'platform')),
    payee            text NOT NULL CHECK (payee IN ('seller', 'agency', 'creator', 'platform')),
    payable          boolean NOT NULL,
    platform_paid    boolean NOT NULL,
    currency         char(3) NOT NULL,
    amount           numeric(20,4) NOT NULL,
    -- NULL while the period has no rate for the currency.
    rate             numeric(18,8),
    converted        numeric(20,4),
    reason           text,
    origin           jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, draft_id) REFERENCES settlement_drafts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id)
);
CREATE INDEX settlement_draft_lines_draft_idx ON settlement_draft_lines (tenant_id, draft_id, id);

-- Manual lines of an open period, with a reason (either direction: positive = the seller owes
-- more). Removed freely until the period is finalized; the finalized lines keep them.
CREATE TABLE settlement_adjustments (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    period           date NOT NULL CHECK (extract(day FROM period) = 1),
    collaboration_id uuid NOT NULL,
    currency         char(3) NOT NULL,
    amount           numeric(20,4) NOT NULL CHECK (amount <> 0),
    reason           text NOT NULL CHECK (length(btrim(reason)) > 0),
    created_by       uuid REFERENCES users (id),
    created_by_label text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id)
);
CREATE INDEX settlement_adjustments_period_idx ON settlement_adjustments (tenant_id, period);

-- Finalized settlements: what was decided, never changed. `hash` is SHA-256 of canonical form
-- v1 (settlement/canonical.rs) chained to the tenant's previous finalized hash; the chain cannot
-- fork (one settlement per previous hash).
CREATE TABLE settlements (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,
    period              date NOT NULL CHECK (extract(day FROM period) = 1),
    settlement_currency char(3) NOT NULL,
    -- currency code → rate into the settlement currency, as strings at eight decimals.
    rates               jsonb NOT NULL,
    total_seller        numeric(20,4) NOT NULL,
    total_creators      numeric(20,4) NOT NULL,
    line_count          integer NOT NULL,
    sent_to_review_by   uuid NOT NULL REFERENCES users (id),
    finalized_by        uuid NOT NULL REFERENCES users (id),
    finalized_by_label  text NOT NULL,
    finalized_at        timestamptz NOT NULL,
    previous_hash       text NOT NULL,
    hash                text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, period),
    UNIQUE (tenant_id, previous_hash),
    CHECK (finalized_by <> sent_to_review_by)
);

CREATE TABLE settlement_lines (
    tenant_id        uuid NOT NULL,
    settlement_id    uuid NOT NULL,
    id               uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    contract_version integer NOT NULL,
    component        text NOT NULL CHECK (component IN ('fixed_fee', 'commission', 'service_fee',
                         'sample_cost', 'deduction', 'adjustment')),
    payer            text NOT NULL CHECK (payer IN ('seller', 'agency', 'creator', 'platform')),
    payee            text NOT NULL CHECK (payee IN ('seller', 'agency', 'creator', 'platform')),
    payable          boolean NOT NULL,
    platform_paid    boolean NOT NULL,
    currency         char(3) NOT NULL,
    amount           numeric(20,4) NOT NULL,
    rate             numeric(18,8) NOT NULL,
    converted        numeric(20,4) NOT NULL,
    reason           text,
    origin           jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, settlement_id) REFERENCES settlements (tenant_id, id),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id)
);
CREATE INDEX settlement_lines_settlement_idx ON settlement_lines (tenant_id, settlement_id, id);
CREATE INDEX settlement_lines_collaboration_idx ON settlement_lines (tenant_id, collaboration_id);

-- What the seller paid against a finalized settlement: rows, never updates (partial payments
-- allowed; `paid` is derived from their sum).
CREATE TABLE settlement_payments (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL,
    settlement_id     uuid NOT NULL,
    paid_on           date NOT NULL,
    amount            numeric(20,4) NOT NULL CHECK (amount > 0),
    reference         text NOT NULL CHECK (length(btrim(reference)) > 0),
    recorded_by       uuid REFERENCES users (id),
    recorded_by_label text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, settlement_id) REFERENCES settlements (tenant_id, id)
);
CREATE INDEX settlement_payments_settlement_idx ON settlement_payments (tenant_id, settlement_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON settlement_drafts, settlement_draft_lines,
    settlement_adjustments TO sextant_app, sextant_system;
GRANT SELECT, INSERT ON settlements, settlement_lines, settlement_payments
    TO sextant_app, sextant_system;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['settlement_drafts', 'settlement_draft_lines',
                             'settlement_adjustments', 'settlements', 'settlement_lines',
                             'settlement_payments'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['settlements', 'settlement_lines', 'settlement_payments'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I
            FOR EACH ROW EXECUTE FUNCTION refuse_change()', t || '_append_only', t);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_append_only');
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()', t || '_no_truncate', t);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_no_truncate');
    END LOOP;
END
$$;

