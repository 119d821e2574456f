-- Issue 12: what an order import's validation run found beyond its counts, shown on the report
-- before the person decides.
-- dates_read_both_ways: every slash date in the file was a date read day-first and month-first;
--   the shop's export date order (DMY or MDY) was assumed.
-- repeated_keys: the first keys (order, line) found on more than one good row, with their lines:
--   [{"order": "5761…", "line_key": "1729…", "lines": [12, 40]}]; the last line wins on import.
--   `duplicate_rows` (the rows an import leaves out for it) is now set by the validation run.
-- exported_at_from_file: the upload form's export time was left empty; the validation run set
--   `exported_at` to the latest time the file carries.
ALTER TABLE order_imports
    ADD COLUMN dates_read_both_ways text CHECK (dates_read_both_ways IN ('DMY', 'MDY')),
    ADD COLUMN repeated_keys jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN exported_at_from_file boolean NOT NULL DEFAULT false;
