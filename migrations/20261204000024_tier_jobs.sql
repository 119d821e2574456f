-- Tiers (SPEC §8), helper T: what the tier job needs beside migration 20.
--
-- A tenant's transaction cannot write the platform tier (system scope only), so a change that
-- refreshes a creator's tenant tier marks the creator here and the tier job (every minute)
-- recomputes the platform tier of the creators marked. The app role may only add marks: it can
-- neither read nor remove them, so the table tells a tenant nothing about other tenants.
CREATE TABLE platform_tier_dirty (
    creator_id  uuid PRIMARY KEY REFERENCES creators (id),
    marked_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
GRANT INSERT ON platform_tier_dirty TO sextant_app;
GRANT SELECT, INSERT, DELETE ON platform_tier_dirty TO sextant_system;

-- The day the daily pass last ran (several app servers: the one holding the advisory lock
-- claims the day here, so the pass runs once a day whichever server gets there first).
CREATE TABLE tier_job_runs (
    job       text PRIMARY KEY,
    last_day  date NOT NULL,
    ran_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
GRANT SELECT, INSERT, UPDATE ON tier_job_runs TO sextant_system;
