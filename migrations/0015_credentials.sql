-- Provider credentials (docs/credentials.md): one credential per provider and owner, so the resolution
-- has exactly one candidate per level and writing a new key replaces the old one; and the rotation job's
-- lookup of rows still sealed by an old key.
CREATE UNIQUE INDEX idx_credentials_owner
    ON provider_credentials(provider_id, scope, IFNULL(user_id, ''), IFNULL(org_id, ''), IFNULL(tier_id, ''));
CREATE INDEX idx_credentials_key_id ON provider_credentials(encryption_key_id);
