-- Webhook URLs as secrets, signed deliveries, retention (docs/alerts.md).
--
-- A webhook URL can be a bearer credential (a Slack incoming-webhook URL is one), so it is sealed with the
-- GATEWAY_ENCRYPTION_KEY keyring like a provider credential (AES-256-GCM, crypto/keyring.py), together with
-- the webhook's signing secret (`whsec_…`, the HMAC key of the x-gateway-signature header); answers show
-- `url_hint` only. `encryption_key_id` names the key that sealed both, so a key rotation finds the rows
-- to reseal.
--
-- A migration cannot encrypt: rows written before this one keep their URL in the plain `url` column and
-- keep being delivered (unsigned: they have no secret yet). The scheduled job `reseal_webhooks`
-- (jobs.py, every cron run, 50 rows a run) seals them — URL and a new signing secret, which the webhook's
-- admin reads with POST /admin/alerts/webhooks/{id}/rotate-secret — and blanks `url`. `url` stays
-- NOT NULL (SQLite cannot relax a column without rebuilding the table, and rebuilding `webhooks` would
-- cascade-delete its deliveries under D1's enforced foreign keys): a sealed row holds ''.
ALTER TABLE webhooks ADD COLUMN url_ciphertext TEXT;        -- base64(nonce || AES-GCM(url) || tag)
ALTER TABLE webhooks ADD COLUMN secret_ciphertext TEXT;     -- the same, of the signing secret
ALTER TABLE webhooks ADD COLUMN encryption_key_id TEXT;     -- the keyring entry that sealed both
ALTER TABLE webhooks ADD COLUMN url_hint TEXT;              -- 'https://hooks.slack.com/…a1b2': what answers show

-- The retention job deletes resolved alerts older than ALERT_RETENTION_DAYS, oldest first.
CREATE INDEX idx_alerts_resolved ON alerts(status, resolved_at);
