-- Tracking (SPEC §5): uploaded files, posts and their metric snapshots, order imports and the
-- orders they bring. Every table belongs to a tenant and is behind the tenant policy.

-- A file kept in object storage (local folder under SEXTANT_DATA_DIR, or S3-compatible).
CREATE TABLE uploads (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    purpose      text NOT NULL CHECK (purpose IN ('orders', 'snapshots', 'evidence', 'deliverable')),
    filename     text NOT NULL,
    content_type text,
    bytes        bigint NOT NULL CHECK (bytes >= 0),
    sha256       text NOT NULL,
    -- Where object storage keeps it: tenants/<tenant>/<purpose>/<id>.
    storage_key  text NOT NULL UNIQUE,
    uploaded_by  uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- A published video of a collaboration.
CREATE TABLE posts (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    url              text NOT NULL,
    -- The platform's video id (from the URL or typed in); the key snapshot imports match on.
    video_id         text,
    published_at     timestamptz NOT NULL,
    created_by       uuid REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, video_id),
    UNIQUE (tenant_id, url),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id)
);
CREATE INDEX posts_collaboration_idx ON posts (tenant_id, collaboration_id);

-- What a post showed at one moment (SPEC §5 windows read these).
CREATE TABLE metric_snapshots (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL,
    post_id           uuid NOT NULL,
    captured_at       timestamptz NOT NULL,
    views             bigint NOT NULL CHECK (views >= 0),
    likes             bigint NOT NULL CHECK (likes >= 0),
    comments          bigint NOT NULL CHECK (comments >= 0),
    shares            bigint NOT NULL CHECK (shares >= 0),
    avg_watch_seconds numeric(10,2) CHECK (avg_watch_seconds >= 0),
    source            text NOT NULL CHECK (source IN ('manual', 'csv', 'api', 'demo')),
    upload_id         uuid,
    created_by        uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    -- One reading per post and moment: a second one for the same moment replaces it.
    UNIQUE (tenant_id, post_id, captured_at),
    FOREIGN KEY (tenant_id, post_id) REFERENCES posts (tenant_id, id)
);

-- One uploaded export of orders and what became of it (a background job; state in here).
CREATE TABLE order_imports (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    shop_id       uuid NOT NULL,
    upload_id     uuid NOT NULL,
    format        text CHECK (format IN ('tiktok_affiliate', 'shopify')),
    -- When the shop produced the export: when two exports disagree, the later one wins.
    exported_at   timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'validating',
                      'validated', 'importing', 'imported', 'failed', 'cancelled', 'undone')),
    rows_total    bigint NOT NULL DEFAULT 0,
    rows_done     bigint NOT NULL DEFAULT 0,
    rows_good     bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    failure       text,
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, shop_id) REFERENCES shops (tenant_id, id),
    FOREIGN KEY (tenant_id, upload_id) REFERENCES uploads (tenant_id, id)
);
CREATE INDEX order_imports_state_idx ON order_imports (state) WHERE state IN ('queued', 'validating', 'importing');

-- Every order line as each import saw it. The current value of a line is the one from the
-- latest export among the imports not undone (`orders_current`), so importing the same file
-- twice changes nothing, a newer export updates status and refunds, an older one loses, and
-- undoing an import brings back what was there before it.
CREATE TABLE order_lines (
    tenant_id        uuid NOT NULL,
    import_id        uuid NOT NULL,
    shop_id          uuid NOT NULL,
    -- TikTok: Order ID / SKU ID. Shopify: Name / '' (one row per order).
    order_key        text NOT NULL,
    line_key         text NOT NULL DEFAULT '',
    exported_at      timestamptz NOT NULL,
    placed_at        timestamptz NOT NULL,
    status           text,
    currency         char(3) NOT NULL,
    -- What the buyer paid for the line (TikTok Payment Amount; Shopify Total).
    amount           numeric(18,2) NOT NULL,
    quantity         integer,
    refunded_amount  numeric(18,2) NOT NULL DEFAULT 0,
    fully_refunded   boolean NOT NULL DEFAULT false,
    creator_username text,
    content_id       text,
    discount_code    text,
    commission_rate  numeric(7,4),
    commission       numeric(18,2),
    product_name     text,
    PRIMARY KEY (tenant_id, import_id, shop_id, order_key, line_key),
    FOREIGN KEY (tenant_id, import_id) REFERENCES order_imports (tenant_id, id)
);
CREATE INDEX order_lines_key_idx ON order_lines (tenant_id, shop_id, order_key, line_key, exported_at DESC);

-- Which collaboration an order belongs to: by creator username / content id, by discount code,
-- or by a person. Kept per order line key, so it survives newer exports of the same order.
CREATE TABLE order_attributions (
    tenant_id        uuid NOT NULL,
    shop_id          uuid NOT NULL,
    order_key        text NOT NULL,
    line_key         text NOT NULL DEFAULT '',
    collaboration_id uuid NOT NULL,
    attributed_by    text NOT NULL CHECK (attributed_by IN ('creator', 'content', 'discount_code', 'person')),
    attributed_user  uuid REFERENCES users (id),
    attributed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, shop_id, order_key, line_key),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id)
);
CREATE INDEX order_attributions_collaboration_idx ON order_attributions (tenant_id, collaboration_id);

CREATE VIEW orders_current WITH (security_barrier, security_invoker) AS
SELECT DISTINCT ON (l.tenant_id, l.shop_id, l.order_key, l.line_key)
       l.*, a.collaboration_id, a.attributed_by
FROM order_lines l
JOIN order_imports i ON i.tenant_id = l.tenant_id AND i.id = l.import_id AND i.state = 'imported'
LEFT JOIN order_attributions a ON a.tenant_id = l.tenant_id AND a.shop_id = l.shop_id
     AND a.order_key = l.order_key AND a.line_key = l.line_key
ORDER BY l.tenant_id, l.shop_id, l.order_key, l.line_key, l.exported_at DESC, i.created_at DESC;

GRANT SELECT, INSERT, UPDATE, DELETE ON uploads, posts, metric_snapshots, order_imports,
    order_lines, order_attributions TO sextant_app, sextant_system;
GRANT SELECT ON orders_current TO sextant_app, sextant_system;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['uploads', 'posts', 'metric_snapshots', 'order_imports',
                             'order_lines', 'order_attributions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
END
$$;
