-- Shortlist cards show a creator's recent videos (issue 13 item 4): links the agency keeps in the
-- pool (import column `recent_videos`, or the staff edit form), newest first, at most five. They
-- are only ever shown as links; the server never fetches them.
ALTER TABLE creators ADD COLUMN recent_videos text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(recent_videos) <= 5);
