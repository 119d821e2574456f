-- The audit trail's pages: the admins' list reads every tenant's entries newest first.
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
