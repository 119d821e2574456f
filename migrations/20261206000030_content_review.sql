-- Content review (SPEC §10, the second seed article): versioned deliverables per collaboration,
-- a self-check against the checklist then a cross-review by someone else, and the checklists as
-- data (per platform and market, both languages, maintained by admins).
--
-- Deliverable versions and reviews are append-only for both app roles (a new version or a new
-- review is a new row); a deliverable's state follows from its reviews.

-- The owner turns content review on for the tenant: drafts then move a collaboration to
-- in_review, and a post before the final video is approved raises a compliance_issue record.
ALTER TABLE tenants ADD COLUMN content_review boolean NOT NULL DEFAULT false;

-- Checklist items: `platform` (a shop platform) or NULL for every platform; `markets` the
-- campaign markets (ISO country codes) it applies to, empty for every market.
CREATE TABLE checklist_items (
    id          uuid PRIMARY KEY,
    platform    text CHECK (platform IN ('tiktok_shop', 'shopify', 'amazon', 'shopee', 'lazada',
                                         'independent')),
    markets     text[] NOT NULL DEFAULT '{}',
    text_zh     text NOT NULL CHECK (length(text_zh) BETWEEN 1 AND 300),
    text_en     text NOT NULL CHECK (length(text_en) BETWEEN 1 AND 300),
    position    integer NOT NULL DEFAULT 100,
    active      boolean NOT NULL DEFAULT true,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
GRANT SELECT ON checklist_items TO sextant_app;
GRANT SELECT, INSERT, UPDATE ON checklist_items TO sextant_system;

INSERT INTO checklist_items (id, platform, markets, text_zh, text_en, position) VALUES
  ('01900000-0000-7000-8000-000000000001', 'tiktok_shop', '{}',
   '前 3 秒有吸引人的开场（钩子）', 'A hook in the first 3 seconds', 10),
  ('01900000-0000-7000-8000-000000000002', NULL, '{}',
   '产品在使用中展示', 'The product is shown in use', 20),
  ('01900000-0000-7000-8000-000000000003', 'tiktok_shop', '{}',
   '已挂购物车链接', 'The cart link is attached', 30),
  ('01900000-0000-7000-8000-000000000004', NULL, '{}',
   '有广告标识（#ad / 合作标注）', 'The ad is disclosed (#ad / paid partnership label)', 40),
  ('01900000-0000-7000-8000-000000000005', NULL,
   '{US,GB,DE,FR,IT,ES,NL,BE,AT,IE,PL,SE,DK,FI,PT,CZ,GR,RO,HU}',
   '无夸大的健康或功效宣称', 'No exaggerated health or efficacy claims', 50),
  ('01900000-0000-7000-8000-000000000006', NULL, '{AE,SA,QA,KW,BH,OM,EG,JO}',
   '着装得体保守（中东市场）', 'Modest dress (Middle East)', 60),
  ('01900000-0000-7000-8000-000000000007', NULL, '{}',
   '只用有授权的音乐和字体', 'Licensed music and fonts only', 70),
  ('01900000-0000-7000-8000-000000000008', NULL, '{}',
   '手机上文字清晰可读', 'Readable on a phone', 80),
  ('01900000-0000-7000-8000-000000000009', NULL, '{}',
   '文案由母语者润色，无机器直译', 'Copy polished by a native speaker, no machine translation', 90),
  ('01900000-0000-7000-8000-00000000000a', 'amazon', '{}',
   '主图无水印、文字不超过 20%、纯白背景', 'Main image: no watermark, text under 20%, pure white background', 100),
  ('01900000-0000-7000-8000-00000000000b', NULL, '{ID,MY,TH,VN,PH,SG}',
   '避开宗教元素、手势与肤色禁忌（东南亚）', 'No religious symbols, gestures or skin-tone taboos (Southeast Asia)', 110),
  ('01900000-0000-7000-8000-00000000000c', NULL, '{JP}',
   '日文字幕由母语者校对（日本）', 'Japanese captions checked by a native speaker (Japan)', 120);

-- One version of one deliverable (type + language) of a collaboration: a file kept in object
-- storage (`uploads`, purpose `deliverable`) or a link, and the generated name
-- {SKU}_{type}_{lang}_v{n}.
CREATE TABLE deliverables (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('script', 'draft_video', 'final_video',
                                                   'caption', 'cover')),
    lang             text NOT NULL CHECK (lang ~ '^[a-z]{2}$'),
    version          integer NOT NULL CHECK (version >= 1),
    name             text NOT NULL,
    upload_id        uuid,
    link             text CHECK (link ~ '^https?://'),
    note             text NOT NULL DEFAULT '',
    created_by       uuid REFERENCES users (id),
    created_by_label text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, collaboration_id, kind, lang, version),
    CHECK ((upload_id IS NULL) <> (link IS NULL)),
    FOREIGN KEY (tenant_id, collaboration_id) REFERENCES collaborations (tenant_id, id),
    FOREIGN KEY (tenant_id, upload_id) REFERENCES uploads (tenant_id, id)
);

-- The reviews of a version: the self-check (the checklist as ticked, texts kept) then one
-- cross-review (approve or request changes), by a different person (the database checks it
-- too).
CREATE TABLE deliverable_reviews (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    deliverable_id uuid NOT NULL,
    stage          text NOT NULL CHECK (stage IN ('self_check', 'cross_review')),
    outcome        text NOT NULL CHECK (outcome IN ('passed', 'approved', 'changes_requested')),
    checklist      jsonb NOT NULL DEFAULT '[]',
    comment        text NOT NULL DEFAULT '',
    reviewer_id    uuid NOT NULL REFERENCES users (id),
    reviewer_label text NOT NULL,
    self_checker_id uuid REFERENCES users (id),
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, deliverable_id, stage),
    CHECK ((stage = 'self_check') = (outcome = 'passed')),
    CHECK (stage = 'self_check' OR (self_checker_id IS NOT NULL AND self_checker_id <> reviewer_id)),
    FOREIGN KEY (tenant_id, deliverable_id) REFERENCES deliverables (tenant_id, id)
);

GRANT SELECT, INSERT ON deliverables, deliverable_reviews TO sextant_app, sextant_system;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['deliverables', 'deliverable_reviews'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I
            FOR EACH ROW EXECUTE FUNCTION refuse_change()', t || '_append_only', t);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_append_only');
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()', t || '_no_truncate', t);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_no_truncate');
    END LOOP;
END
$$;
