-- Creator pool upkeep (issue 13 item 10): staff deactivate a creator (it leaves matching, its
-- history stays) or reactivate it, always with a reason. Each change is a row here, appended and
-- never changed: the creator page's history.
CREATE TABLE creator_status_changes (
    id          uuid PRIMARY KEY,
    creator_id  uuid NOT NULL REFERENCES creators (id),
    active      boolean NOT NULL,
    reason      text NOT NULL,
    actor_id    uuid REFERENCES users (id),
    actor_label text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX creator_status_changes_creator_idx ON creator_status_changes (creator_id, at);
GRANT SELECT, INSERT ON creator_status_changes TO sextant_system;
CREATE TRIGGER creator_status_changes_append_only BEFORE UPDATE OR DELETE ON creator_status_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE creator_status_changes ENABLE ALWAYS TRIGGER creator_status_changes_append_only;
