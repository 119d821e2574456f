-- Who may act in a tenant, answered in one statement: the tenant (by slug) with the person's
-- membership role and whether they are an assigned account manager. The request's `Actor` is
-- built from this without holding a transaction; the action later runs in a tenant-scoped
-- transaction of its own.
--
-- The function is SECURITY INVOKER: it sets the same per-transaction settings a tenant-scoped
-- transaction sets (local to the statement's own implicit transaction, so nothing outlives the
-- call) and reads under the same RLS policies, so it grants nothing a pooled connection could not
-- already do. It must not be called inside a transaction that holds other settings.
CREATE FUNCTION tenant_access(p_slug text, p_user uuid)
RETURNS TABLE (
    id                   uuid,
    slug                 text,
    display_name         text,
    legal_name           text,
    status               text,
    time_zone            text,
    settlement_currency  text,
    profile_completed_at timestamptz,
    status_reason        text,
    member_role          text,
    assigned             boolean
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t_id uuid;
BEGIN
    SELECT t.id INTO t_id FROM tenants t WHERE t.slug = p_slug;
    IF t_id IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', t_id::text, true),
            set_config('app.user_id', p_user::text, true);
    RETURN QUERY
        SELECT t.id, t.slug, t.display_name, t.legal_name, t.status, t.time_zone,
               t.settlement_currency::text, t.profile_completed_at, t.status_reason,
               (SELECT m.role FROM memberships m WHERE m.tenant_id = t.id AND m.user_id = p_user),
               EXISTS (SELECT 1 FROM am_assignments a WHERE a.tenant_id = t.id AND a.user_id = p_user)
        FROM tenants t WHERE t.id = t_id;
END
$$;
REVOKE ALL ON FUNCTION tenant_access(text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_access(text, uuid) TO sextant_app, sextant_system;
