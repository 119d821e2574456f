-- Sign-up, onboarding, members and the admin console.

-- A tenant's company profile and the agency's decisions about it.
ALTER TABLE tenants
    ADD COLUMN fee_model text NOT NULL DEFAULT 'fixed_plus_commission'
        CHECK (fee_model IN ('fixed_plus_commission', 'commission_only')),
    ADD COLUMN profile_completed_at timestamptz,
    ADD COLUMN status_changed_at timestamptz,
    ADD COLUMN status_reason text;

-- An invited person has no password until they set one through their one-time link.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;

-- One-time links (no mail: the owner or admin passes the link on). Only a SHA-256 of the token is
-- kept. A link for a tenant's member names that tenant; a staff link names none.
CREATE TABLE one_time_links (
    id          uuid PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    user_id     uuid NOT NULL REFERENCES users (id),
    tenant_id   uuid REFERENCES tenants (id),
    purpose     text NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX one_time_links_user_idx ON one_time_links (user_id);
GRANT SELECT, INSERT, UPDATE ON one_time_links TO sextant_app, sextant_system;

-- Staff and the admin console change memberships' people; tenants may be created at sign-up.
GRANT DELETE ON am_assignments TO sextant_app, sextant_system;
