-- What settlement (SPEC §9) and rating (§7) read from an order line, kept apart instead of merged
-- (issue 12, 3b): the payment time, TikTok's commission bases and actual commission payment, and
-- Shopify's subtotal, discounts, shipping and tax. NULL where the export has no such value, and
-- for lines of batches imported before this (the backfill reads them from the stored file).
ALTER TABLE order_lines
    ADD COLUMN paid_at                timestamptz,
    ADD COLUMN est_commission_base    numeric(18,2),
    ADD COLUMN actual_commission_base numeric(18,2),
    ADD COLUMN actual_commission      numeric(18,2),
    ADD COLUMN subtotal               numeric(18,2),
    ADD COLUMN discounts              numeric(18,2),
    ADD COLUMN shipping               numeric(18,2),
    ADD COLUMN tax                    numeric(18,2);

ALTER TABLE order_import_staging
    ADD COLUMN paid_at                timestamptz,
    ADD COLUMN est_commission_base    numeric(18,2),
    ADD COLUMN actual_commission_base numeric(18,2),
    ADD COLUMN actual_commission      numeric(18,2),
    ADD COLUMN subtotal               numeric(18,2),
    ADD COLUMN discounts              numeric(18,2),
    ADD COLUMN shipping               numeric(18,2),
    ADD COLUMN tax                    numeric(18,2);

ALTER TABLE order_imports
    -- Which of the kept fields the batch's file carried (codes of `domain::LineField`); NULL for a
    -- batch validated before they were kept, until the backfill has read its stored file.
    ADD COLUMN line_fields     text[],
    -- What the import did, line by line, against the current lines of the same keys: new keys,
    -- changed lines, identical lines, lines an already imported later export outranks. NULL for
    -- batches imported before these were counted.
    ADD COLUMN lines_new       bigint,
    ADD COLUMN lines_changed   bigint,
    ADD COLUMN lines_unchanged bigint,
    ADD COLUMN lines_older     bigint;

-- Which rule attributed a line: the tracked content id or discount code, the creator's only
-- collaboration, the collaboration whose posts' window or active period (contract accepted …
-- ended) holds the order time, or a person. ('creator' is the rule before these, kept for the
-- lines it attributed.) An automatic attribution names the batch that made it, so undoing the
-- batch takes it back.
ALTER TABLE order_attributions DROP CONSTRAINT order_attributions_attributed_by_check;
ALTER TABLE order_attributions ADD CONSTRAINT order_attributions_attributed_by_check
    CHECK (attributed_by IN ('content', 'discount_code', 'single_collaboration', 'post_window',
                             'active_period', 'creator', 'person'));
ALTER TABLE order_attributions ADD COLUMN import_id uuid;
CREATE INDEX order_attributions_import_idx ON order_attributions (tenant_id, import_id)
    WHERE import_id IS NOT NULL;

-- The automatic attributions made so far belong to the first imported batch with their line.
UPDATE order_attributions a SET import_id = (
    SELECT l.import_id FROM order_lines l
      JOIN order_imports i ON i.tenant_id = l.tenant_id AND i.id = l.import_id
     WHERE l.tenant_id = a.tenant_id AND l.shop_id = a.shop_id AND l.order_key = a.order_key
       AND l.line_key = a.line_key AND i.state = 'imported'
     ORDER BY i.imported_at NULLS LAST, i.created_at LIMIT 1)
 WHERE a.attributed_by <> 'person';
