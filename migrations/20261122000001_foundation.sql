-- Foundation: roles, users, tenants, memberships, shops, audit, login throttling, sessions.
--
-- Roles are cluster-wide, so creating them must be idempotent and must survive several databases
-- being migrated at once (the test harness does exactly that): a concurrent CREATE ROLE can fail
-- with unique_violation instead of duplicate_object, so both are caught.
DO $$
BEGIN
    CREATE ROLE sextant_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
DO $$
BEGIN
    CREATE ROLE sextant_system NOLOGIN NOSUPERUSER BYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
-- A migrating user that is not a superuser (a managed database) must be able to SET ROLE to both.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT sextant_app, sextant_system TO %I', current_user);
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO sextant_app, sextant_system;

-- People. Global: a person may belong to several tenants; staff have a platform role.
CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL,
    display_name    text NOT NULL,
    password_hash   text NOT NULL,
    platform_role   text CHECK (platform_role IN ('admin', 'account_manager', 'finance')),
    locale          text CHECK (locale IN ('zh-CN', 'en')),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
GRANT SELECT, INSERT, UPDATE ON users TO sextant_app, sextant_system;

-- The seller companies. The tenant row is the tenant itself, not something a tenant owns.
CREATE TABLE tenants (
    id                  uuid PRIMARY KEY,
    slug                text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
    display_name        text NOT NULL,
    legal_name          text,
    business_licence_no text,
    main_categories     text[] NOT NULL DEFAULT '{}',
    target_markets      text[] NOT NULL DEFAULT '{}',
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'suspended')),
    time_zone           text NOT NULL DEFAULT 'Asia/Shanghai',
    settlement_currency char(3) NOT NULL DEFAULT 'CNY' CHECK (settlement_currency IN ('CNY', 'USD')),
    service_fee_rate    numeric(5,4) NOT NULL DEFAULT 0.1000 CHECK (service_fee_rate BETWEEN 0.05 AND 0.20),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON tenants TO sextant_app, sextant_system;

-- Tenant-owned tables: tenant_id first in the primary key and in every foreign key, so a row can
-- never point into another tenant; RLS on each (see the policies below).
CREATE TABLE memberships (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    role        text NOT NULL CHECK (role IN ('owner', 'operator', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE am_assignments (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX am_assignments_user_idx ON am_assignments (user_id);

CREATE TABLE shops (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    platform    text NOT NULL CHECK (platform IN ('tiktok_shop', 'shopify', 'amazon', 'shopee', 'lazada', 'independent')),
    url         text NOT NULL,
    time_zone   text NOT NULL,
    date_order  text NOT NULL CHECK (date_order IN ('DMY', 'MDY', 'YMD')),
    currency    char(3) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON memberships, am_assignments, shops TO sextant_app, sextant_system;

-- One policy shape for every tenant-owned table. A pooled connection that served another
-- transaction reads '' (not NULL) for a setting it once had, hence the NULLIF.
ALTER TABLE shops ENABLE ROW LEVEL SECURITY;
ALTER TABLE shops FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shops
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Memberships and assignments are also visible to the person they name (app.user_id) in a user
-- scope (no tenant set), so a person's tenant switcher can list every tenant they belong to.
-- Inside a tenant scope only that tenant's rows show; writes are always tenant-scoped.
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memberships
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY own_rows ON memberships FOR SELECT
    USING (NULLIF(current_setting('app.tenant_id', true), '') IS NULL
           AND user_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

ALTER TABLE am_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE am_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON am_assignments
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY own_rows ON am_assignments FOR SELECT
    USING (NULLIF(current_setting('app.tenant_id', true), '') IS NULL
           AND user_id = NULLIF(current_setting('app.user_id', true), '')::uuid);

-- Audit (SPEC §12): the one table where tenant_id may be null (platform events). Append-only at
-- the database level: no UPDATE/DELETE/TRUNCATE grant, and triggers that refuse them even for the
-- owner. Tenant-scoped readers see only their tenant's rows.
CREATE TABLE audit_log (
    id            uuid PRIMARY KEY,
    tenant_id     uuid REFERENCES tenants (id),
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id      uuid REFERENCES users (id),
    actor_label   text NOT NULL,
    action        text NOT NULL,
    entity_type   text NOT NULL,
    entity_id     text,
    before        jsonb,
    after         jsonb,
    ip            text,
    scope         text
);
CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at DESC);
GRANT SELECT, INSERT ON audit_log TO sextant_app, sextant_system;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- Login throttling counters live here (app servers are stateless). Keyed by account+ip and ip.
CREATE TABLE login_throttle (
    key                 text PRIMARY KEY,
    failures            integer NOT NULL DEFAULT 0,
    window_started_at   timestamptz NOT NULL DEFAULT now(),
    locked_until        timestamptz
);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO sextant_app, sextant_system;

-- Sessions for tower-sessions-sqlx-store, created here (not by the store's own migrate) so the app
-- role needs no CREATE privilege.
CREATE SCHEMA tower_sessions;
CREATE TABLE tower_sessions.session (
    id          text PRIMARY KEY NOT NULL,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);
CREATE INDEX session_expiry_idx ON tower_sessions.session (expiry_date);
GRANT USAGE ON SCHEMA tower_sessions TO sextant_app, sextant_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON tower_sessions.session TO sextant_app, sextant_system;
