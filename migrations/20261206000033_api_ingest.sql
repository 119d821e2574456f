-- The JSON API's ingest and limits (issue 18).

-- Each orders call through the API is an import batch like an uploaded export: its rows kept
-- (the call's normalized lines, stored as the batch's "file"), validated per row, imported,
-- undoable from the imports page. `source` tells the two apart; `api_token_id` names the token
-- that sent it (its person is `created_by`).
ALTER TABLE order_imports
    ADD COLUMN source       text NOT NULL DEFAULT 'file' CHECK (source IN ('file', 'api')),
    ADD COLUMN api_token_id uuid;
ALTER TABLE order_imports DROP CONSTRAINT IF EXISTS order_imports_format_check;
ALTER TABLE order_imports ADD CONSTRAINT order_imports_format_check
    CHECK (format IN ('tiktok_affiliate', 'shopify', 'api_json'));

-- `Idempotency-Key` on every POST of /api/v1: the first answer to a (token, key) — a success or
-- a refusal of the input — is kept and replayed; the same key with another request (another body,
-- path or company) is refused; a request arriving while the first is still running gets 409.
-- Claimed only once the token is let in. A key is kept 24 hours; a 'running' row older than 5
-- minutes (its server died) may be taken over. Only the API's front door (the system role)
-- reads or writes it: no tenant's transaction can see another's answers.
CREATE TABLE api_idempotency (
    token_id     uuid NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    state        text NOT NULL CHECK (state IN ('running', 'done')),
    status       smallint,
    content_type text,
    location     text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX api_idempotency_created_idx ON api_idempotency (created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON api_idempotency TO sextant_system;
