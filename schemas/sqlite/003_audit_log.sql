-- The audit trail: who opened which call, played which recording, erased
-- what, and when. Ids and times only, never content. Written by the API,
-- read by admins (GET /api/admin/audit), kept `retention.audit_days`
-- (`callscope retention`). See docs/storage.md and docs/privacy.md.
CREATE TABLE IF NOT EXISTS audit_log (
    at INTEGER NOT NULL,          -- milliseconds since the Unix epoch, UTC
    user_id TEXT NOT NULL,        -- the signed-in user
    user_role TEXT NOT NULL,      -- admin | manager | seller, at the time
    action TEXT NOT NULL,         -- open_call | play_audio | erase_call | erase_seller
    call_id TEXT NOT NULL,        -- '' for an action on a seller
    seller_id TEXT NOT NULL       -- the call's seller, or the seller acted on
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_call ON audit_log (call_id, at);
CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log (user_id, at);
