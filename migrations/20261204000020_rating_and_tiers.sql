-- The heart of the loop (SPEC §6, §7, §8): fulfilment records with evidence and the deduction
-- policy, scorecard templates, ratings with blind raters' submissions and their calibration,
-- creator tiers with their history, blacklists (tenant and platform), and the tenant's settings
-- for all of it.
--
-- History tables are append-only for both app roles: no UPDATE/DELETE grant, and a trigger that
-- refuses them even for the owner (the audit log's rule).

-- Tenant settings (SPEC §6 grace days, §7 evaluation window, §8 thresholds).
ALTER TABLE tenants
    ADD COLUMN evaluation_window     text NOT NULL DEFAULT 'd14'
        CHECK (evaluation_window IN ('d1', 'd7', 'd14', 'd30')),
    ADD COLUMN no_publish_grace_days integer NOT NULL DEFAULT 3
        CHECK (no_publish_grace_days BETWEEN 0 AND 60),
    ADD COLUMN tier_s_min            numeric(5,2) NOT NULL DEFAULT 78,
    ADD COLUMN tier_a_min            numeric(5,2) NOT NULL DEFAULT 60,
    ADD COLUMN tier_b_min            numeric(5,2) NOT NULL DEFAULT 45,
    ADD CONSTRAINT tenants_tier_thresholds_check
        CHECK (0 <= tier_b_min AND tier_b_min <= tier_a_min AND tier_a_min <= tier_s_min
               AND tier_s_min <= 100);

-- The platform's thresholds for the platform tier.
INSERT INTO platform_settings (key, value)
VALUES ('tier_thresholds', '{"s": 78, "a": 60, "b": 45}')
ON CONFLICT (key) DO NOTHING;

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Deduction policy (SPEC §6): versions of kind × severity → points and an optional money
-- deduction. `rules` is a list of {"kind", "severity", "points", "money": null |
-- {"amount": "50.00", "currency": "USD"} | {"percent_of_fixed_fee": "10"}}. A version is never
-- changed; a new one is added.
CREATE TABLE deduction_policies (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    rules       jsonb NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, version)
);

-- Fulfilment records (SPEC §6). Append-only; a correction is a new row that `supersedes` an
-- earlier one (each record is superseded at most once); `withdrawn` marks a correction that
-- takes the earlier record back without replacing it. What the record is worth is frozen when
-- it is recorded, under the policy version current then.
CREATE TABLE fulfilment_records (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    creator_id       uuid NOT NULL REFERENCES creators (id),
    kind             text NOT NULL CHECK (kind IN ('late_publish', 'no_publish', 'script_deviation',
                         'core_feature_missing', 'cart_link_missing', 'revision_limit_exceeded',
                         'post_removed_early', 'compliance_issue', 'slow_response')),
    severity         text NOT NULL CHECK (severity IN ('minor', 'major', 'severe')),
    note             text NOT NULL DEFAULT '',
    -- late_publish: days after the deadline.
    days_late        integer CHECK (days_late >= 0),
    -- The moment the event happened (for automatic ones: the deadline, or the late post's time).
    occurred_at      timestamptz NOT NULL,
    automatic        boolean NOT NULL DEFAULT false,
    supersedes       uuid,
    withdrawn        boolean NOT NULL DEFAULT false,
    correction_reason text,
    policy_version   integer NOT NULL,
    points           numeric(5,2) NOT NULL CHECK (points >= 0),
    money_amount     numeric(18,2) CHECK (money_amount >= 0),
    money_currency   char(3),
    money_percent    numeric(5,2) CHECK (money_percent BETWEEN 0 AND 100),
    recorded_by      uuid REFERENCES users (id),
    recorded_by_label text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, supersedes),
    CHECK (withdrawn = false OR supersedes IS NOT NULL),
    CHECK ((money_amount IS NULL) = (money_currency IS NULL)),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id),
    FOREIGN KEY (tenant_id, supersedes) REFERENCES fulfilment_records (tenant_id, id),
    FOREIGN KEY (tenant_id, policy_version) REFERENCES deduction_policies (tenant_id, version)
);
CREATE INDEX fulfilment_records_collaboration_idx
    ON fulfilment_records (tenant_id, collaboration_id, recorded_at);
CREATE INDEX fulfilment_records_creator_idx
    ON fulfilment_records (tenant_id, creator_id, occurred_at);
-- The background job creates each automatic kind once per collaboration (idempotent).
CREATE UNIQUE INDEX fulfilment_records_automatic_key
    ON fulfilment_records (tenant_id, collaboration_id, kind)
    WHERE automatic AND supersedes IS NULL;

-- Only records nobody corrected count (points, money, S blocks, blacklist proposals).
CREATE VIEW counting_fulfilment_records WITH (security_invoker = true) AS
SELECT r.*
  FROM fulfilment_records r
 WHERE NOT r.withdrawn
   AND NOT EXISTS (SELECT 1 FROM fulfilment_records c
                    WHERE c.tenant_id = r.tenant_id AND c.supersedes = r.id);

-- Evidence files (uploads with purpose 'evidence') of a record.
CREATE TABLE fulfilment_record_files (
    tenant_id   uuid NOT NULL,
    record_id   uuid NOT NULL,
    upload_id   uuid NOT NULL,
    PRIMARY KEY (tenant_id, record_id, upload_id),
    FOREIGN KEY (tenant_id, record_id) REFERENCES fulfilment_records (tenant_id, id),
    FOREIGN KEY (tenant_id, upload_id) REFERENCES uploads (tenant_id, id)
);

-- ---------------------------------------------------------------------------------------------
-- Scorecard templates (SPEC §7): immutable versions. `dimensions` is a list of
-- {"code", "weight", "kind": "objective"|"subjective", "formula" (objective: "conversion" |
-- "fulfilment"), "label": {"zh-CN", "en"}, "rubric": {"zh-CN": [5 texts], "en": [5 texts]}
-- (subjective), "hint" (optional: "audience")}.
CREATE TABLE scorecard_templates (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    dimensions  jsonb NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, version)
);

-- One rating per collaboration. Inputs are frozen when it opens (ROI for rating, objective
-- levels with the numbers they came from); the outcome when it completes.
CREATE TABLE ratings (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL,
    collaboration_id  uuid NOT NULL,
    creator_id        uuid NOT NULL REFERENCES creators (id),
    campaign_id       uuid NOT NULL,
    template_id       uuid NOT NULL,
    state             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'completed')),
    opened_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    opened_by         uuid REFERENCES users (id),
    opened_by_label   text NOT NULL,
    -- Set when the owner opened it before the evaluation window was final.
    override_reason   text,
    -- When the evaluation window became (or becomes) final for every post.
    window_final_at   timestamptz,
    -- When the D14 window is final for every post (no C before it, SPEC §8).
    d14_final_at      timestamptz,
    -- The moment a tier's recency weighting counts age from: the last post (the deadline when
    -- breached).
    age_from          timestamptz NOT NULL,
    -- ROI for rating, frozen: amounts in the campaign's currency.
    currency          char(3) NOT NULL,
    net_gmv           numeric(18,2) NOT NULL,
    cost              numeric(18,2) NOT NULL,
    roi_target        numeric(10,4) NOT NULL CHECK (roi_target > 0),
    -- r = net GMV / (target × cost) (SPEC §7).
    roi_ratio         numeric(12,6) NOT NULL,
    -- fixed | notional_frozen | notional_current
    cost_basis        text NOT NULL,
    -- Everything else the objective dimensions came from (levels, deductions, numbers).
    inputs            jsonb NOT NULL,
    closed_with_one   boolean NOT NULL DEFAULT false,
    -- Mean of rater totals (raw), and the score that counts (calibrated when closed with one).
    raw_score         numeric(5,2),
    final_score       numeric(5,2),
    calibrated_score  numeric(5,2),
    completed_at      timestamptz,
    completed_by      uuid REFERENCES users (id),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, collaboration_id),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id),
    FOREIGN KEY (tenant_id, template_id) REFERENCES scorecard_templates (tenant_id, id),
    CHECK (state = 'open' OR (final_score IS NOT NULL AND completed_at IS NOT NULL))
);
CREATE INDEX ratings_creator_idx ON ratings (tenant_id, creator_id) INCLUDE (final_score, age_from, state);

-- Who is asked to rate (owner, operators, the assigned account manager).
CREATE TABLE rating_raters (
    tenant_id    uuid NOT NULL,
    rating_id    uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id),
    assigned_by  uuid REFERENCES users (id),
    assigned_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, rating_id, user_id),
    FOREIGN KEY (tenant_id, rating_id) REFERENCES ratings (tenant_id, id)
);
CREATE INDEX rating_raters_user_idx ON rating_raters (user_id);

-- A rater's scorecard. Append-only: version 1 is the submission, a later version a correction
-- (with a reason) that replaces it for the rating's score; statistics use version 1 only.
CREATE TABLE rating_submissions (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    rating_id     uuid NOT NULL,
    rater_id      uuid NOT NULL REFERENCES users (id),
    rater_label   text NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    corrects      uuid,
    correction_reason text,
    -- {"<dimension code>": level} for every dimension (objective ones as computed, fractional).
    levels        jsonb NOT NULL,
    total         numeric(5,2) NOT NULL CHECK (total BETWEEN 0 AND 100),
    justification text,
    comment       text NOT NULL DEFAULT '',
    submitted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, rating_id, rater_id, version),
    CHECK ((version = 1) = (corrects IS NULL)),
    FOREIGN KEY (tenant_id, rating_id) REFERENCES ratings (tenant_id, id),
    FOREIGN KEY (tenant_id, corrects) REFERENCES rating_submissions (tenant_id, id)
);
CREATE INDEX rating_submissions_rater_idx ON rating_submissions (tenant_id, rater_id, submitted_at);

CREATE TABLE rating_submission_files (
    tenant_id     uuid NOT NULL,
    submission_id uuid NOT NULL,
    upload_id     uuid NOT NULL,
    PRIMARY KEY (tenant_id, submission_id, upload_id),
    FOREIGN KEY (tenant_id, submission_id) REFERENCES rating_submissions (tenant_id, id),
    FOREIGN KEY (tenant_id, upload_id) REFERENCES uploads (tenant_id, id)
);

-- Calibrated levels of a submission's subjective dimensions, stored once when its rating
-- completes (later ratings do not move them).
CREATE TABLE submission_calibrations (
    tenant_id     uuid NOT NULL,
    submission_id uuid NOT NULL,
    -- {"<dimension code>": calibrated level}
    levels        jsonb NOT NULL,
    total         numeric(5,2) NOT NULL CHECK (total BETWEEN 0 AND 100),
    computed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, submission_id),
    FOREIGN KEY (tenant_id, submission_id) REFERENCES rating_submissions (tenant_id, id)
);

-- ---------------------------------------------------------------------------------------------
-- Tiers (SPEC §8). `tier` is what everyone reads (the owner's override while it holds, else the
-- computed one); NULL: not tiered yet. `reason` is structured so pages can say it in words in
-- either language.
CREATE TABLE creator_tiers (
    tenant_id          uuid NOT NULL REFERENCES tenants (id),
    creator_id         uuid NOT NULL REFERENCES creators (id),
    tier               char(1) CHECK (tier IN ('S', 'A', 'B', 'C')),
    computed_tier      char(1) CHECK (computed_tier IN ('S', 'A', 'B', 'C')),
    score              numeric(5,2),
    rated_count        integer NOT NULL DEFAULT 0,
    reason             jsonb NOT NULL DEFAULT '{}',
    low_score_warning  boolean NOT NULL DEFAULT false,
    -- rebook | rebook_adjusted | do_not_rebook
    recommendation     text CHECK (recommendation IN ('rebook', 'rebook_adjusted', 'do_not_rebook')),
    override_tier      char(1) CHECK (override_tier IN ('S', 'A', 'B', 'C')),
    override_reason    text,
    override_by        uuid REFERENCES users (id),
    override_at        timestamptz,
    computed_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, creator_id)
);

CREATE TABLE creator_tier_history (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    creator_id  uuid NOT NULL REFERENCES creators (id),
    from_tier   char(1),
    to_tier     char(1),
    score       numeric(5,2),
    reason      jsonb NOT NULL DEFAULT '{}',
    -- rating | fulfilment | blacklist | daily | override
    cause       text NOT NULL,
    actor_id    uuid REFERENCES users (id),
    actor_label text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX creator_tier_history_creator_idx ON creator_tier_history (tenant_id, creator_id, at);

-- A tenant's blacklist: proposed (by a severe record, or by hand), confirmed by the owner,
-- dismissed, or lifted later. At most one proposed or confirmed entry per creator.
CREATE TABLE blacklist_entries (
    tenant_id            uuid NOT NULL REFERENCES tenants (id),
    id                   uuid NOT NULL,
    creator_id           uuid NOT NULL REFERENCES creators (id),
    status               text NOT NULL CHECK (status IN ('proposed', 'confirmed', 'dismissed', 'lifted')),
    reason               text NOT NULL,
    fulfilment_record_id uuid,
    evidence_upload_id   uuid,
    proposed_by          uuid REFERENCES users (id),
    proposed_by_label    text NOT NULL,
    proposed_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    decided_by           uuid REFERENCES users (id),
    decided_at           timestamptz,
    decision_reason      text,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, fulfilment_record_id) REFERENCES fulfilment_records (tenant_id, id),
    FOREIGN KEY (tenant_id, evidence_upload_id) REFERENCES uploads (tenant_id, id)
);
CREATE UNIQUE INDEX blacklist_entries_open_key ON blacklist_entries (tenant_id, creator_id)
    WHERE status IN ('proposed', 'confirmed');

-- The platform's tier per creator over all tenants' ratings (staff only in pages; matching
-- reads it for the track-record component).
CREATE TABLE platform_tiers (
    creator_id   uuid PRIMARY KEY REFERENCES creators (id),
    tier         char(1) CHECK (tier IN ('S', 'A', 'B', 'C')),
    score        numeric(5,2),
    rated_count  integer NOT NULL DEFAULT 0,
    reason       jsonb NOT NULL DEFAULT '{}',
    computed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE platform_tier_history (
    id          uuid PRIMARY KEY,
    creator_id  uuid NOT NULL REFERENCES creators (id),
    from_tier   char(1),
    to_tier     char(1),
    score       numeric(5,2),
    reason      jsonb NOT NULL DEFAULT '{}',
    cause       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX platform_tier_history_creator_idx ON platform_tier_history (creator_id, at);

-- The platform blacklist, kept by staff with a reason; `creators.platform_blacklisted` follows
-- it (the entry is the record, the flag what filters read).
CREATE TABLE platform_blacklist_entries (
    id            uuid PRIMARY KEY,
    creator_id    uuid NOT NULL REFERENCES creators (id),
    status        text NOT NULL CHECK (status IN ('active', 'lifted')),
    reason        text NOT NULL,
    created_by    uuid REFERENCES users (id),
    created_by_label text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    lifted_by     uuid REFERENCES users (id),
    lifted_at     timestamptz,
    lift_reason   text
);
CREATE UNIQUE INDEX platform_blacklist_entries_active_key ON platform_blacklist_entries (creator_id)
    WHERE status = 'active';

-- ---------------------------------------------------------------------------------------------
-- Grants. History is appended, never changed.
GRANT SELECT, INSERT ON deduction_policies, scorecard_templates, fulfilment_records,
    fulfilment_record_files, rating_submissions, rating_submission_files, submission_calibrations,
    creator_tier_history
    TO sextant_app, sextant_system;
GRANT SELECT ON counting_fulfilment_records TO sextant_app, sextant_system;
GRANT SELECT, INSERT, UPDATE ON ratings, creator_tiers, blacklist_entries
    TO sextant_app, sextant_system;
GRANT SELECT, INSERT, DELETE ON rating_raters TO sextant_app, sextant_system;
GRANT SELECT ON platform_tiers, platform_blacklist_entries, platform_tier_history TO sextant_app;
GRANT SELECT, INSERT, UPDATE ON platform_tiers, platform_blacklist_entries TO sextant_system;
GRANT SELECT, INSERT ON platform_tier_history TO sextant_system;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['deduction_policies', 'fulfilment_records', 'fulfilment_record_files',
                             'scorecard_templates', 'ratings', 'rating_raters', 'rating_submissions',
                             'rating_submission_files', 'submission_calibrations', 'creator_tiers',
                             'creator_tier_history', 'blacklist_entries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['deduction_policies', 'scorecard_templates', 'fulfilment_records',
                             'fulfilment_record_files', 'rating_submissions',
                             'rating_submission_files', 'submission_calibrations',
                             'creator_tier_history', 'platform_tier_history'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I
            FOR EACH ROW EXECUTE FUNCTION refuse_change()', t || '_append_only', t);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_append_only');
    END LOOP;
END
$$;

-- Matching keeps tiers and blacklists in memory: per-tenant ones under 'tenant_overlay', the
-- platform's under 'creator_pool'.
INSERT INTO cache_versions (name, version) VALUES ('tenant_overlay', 1) ON CONFLICT DO NOTHING;
CREATE TRIGGER creator_tiers_bump_overlay
    AFTER INSERT OR UPDATE OR DELETE ON creator_tiers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('tenant_overlay');
CREATE TRIGGER blacklist_entries_bump_overlay
    AFTER INSERT OR UPDATE OR DELETE ON blacklist_entries
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('tenant_overlay');
CREATE TRIGGER platform_tiers_bump_pool
    AFTER INSERT OR UPDATE OR DELETE ON platform_tiers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('creator_pool');
