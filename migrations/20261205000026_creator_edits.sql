-- Creator pool upkeep (issue 13 item 10): staff edit one creator's facts through a form that
-- follows the pool import's rules. Each edit is a row here — which fields, from what, to what —
-- appended and never changed: the creator page's change history.
CREATE TABLE creator_edits (
    id          uuid PRIMARY KEY,
    creator_id  uuid NOT NULL REFERENCES creators (id),
    -- [{"field": "followers", "before": "12000", "after": "15000"}, …]
    changes     jsonb NOT NULL,
    actor_id    uuid REFERENCES users (id),
    actor_label text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX creator_edits_creator_idx ON creator_edits (creator_id, at);
GRANT SELECT, INSERT ON creator_edits TO sextant_system;
CREATE TRIGGER creator_edits_append_only BEFORE UPDATE OR DELETE ON creator_edits
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE creator_edits ENABLE ALWAYS TRIGGER creator_edits_append_only;
