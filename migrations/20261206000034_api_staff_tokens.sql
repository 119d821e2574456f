-- Staff tokens (issue 18): an account manager's token for the agency's integrations, bound to
-- the person and to no company. Each request names the company (`Sextant-Tenant: <slug>`) and is
-- let in only where the person is assigned at that moment. A staff token is seen by no tenant's
-- owner; its person sees it on their own account page (the system scope of one person's events).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_pkey;
ALTER TABLE api_tokens ALTER COLUMN tenant_id DROP NOT NULL;
ALTER TABLE api_tokens ADD PRIMARY KEY (id);
CREATE INDEX api_tokens_staff_idx ON api_tokens (user_id) WHERE tenant_id IS NULL;
