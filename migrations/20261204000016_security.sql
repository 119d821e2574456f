-- Security (issue 12): row-level security on one-time links, password hashes out of the reach of
-- both roles the app works as, and the one function a login reads a hash through.

-- One-time links hold the hashes of invitation and reset tokens. The same policy as every tenant
-- table: a tenant scope sees its own tenant's links and nothing else. The set-password page (no
-- session, no tenant chosen yet) and staff links (no tenant at all) work in the system `Auth`
-- scope, whose role bypasses RLS as it does for every other table.
ALTER TABLE one_time_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE one_time_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON one_time_links
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Whether a person has a password, readable without reading the hash (member lists, the staff
-- console, invitation or reset).
ALTER TABLE users
    ADD COLUMN has_password boolean GENERATED ALWAYS AS (password_hash IS NOT NULL) STORED;

-- Neither sextant_app nor sextant_system may read a password hash: SELECT is granted column by
-- column, every column but password_hash. Writing it (INSERT, UPDATE) stays allowed. A migration
-- that adds a column to users must grant SELECT on it to both roles.
REVOKE SELECT ON users FROM sextant_app, sextant_system;
DO $$
DECLARE cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute
     WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped
       AND attname <> 'password_hash';
    EXECUTE format('GRANT SELECT (%s) ON users TO sextant_app, sextant_system', cols);
END
$$;

-- The only way to read a hash: the active person with this e-mail (any case) and their hash
-- (NULL while they have none), for checking a password at login or before a password change.
-- Owned by the migrating user, with a fixed search_path.
CREATE FUNCTION auth_login_candidate(p_email text)
RETURNS TABLE (id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.id, u.password_hash FROM public.users u
     WHERE lower(u.email) = lower(btrim(p_email)) AND u.active
$$;
REVOKE ALL ON FUNCTION auth_login_candidate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_login_candidate(text) TO sextant_app, sextant_system;
