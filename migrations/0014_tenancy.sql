-- Tenancy: gateway keys are found by their visible prefix, then the candidates' SHA-256 hashes are
-- compared in constant time (hmac.compare_digest) in the gateway (see docs/admin.md, "Key scheme").
--
-- New keys are 'gw-' + 43 url-safe base64 characters (256 random bits); their prefix is the first 15
-- characters ('gw-' + 12 characters = 72 random bits), so a prefix almost always names one key. Keys made
-- before this migration keep their 11-character prefix ('gw-' + 8 characters): the lookup asks for both
-- lengths, so they keep working without being re-issued (their hash cannot be turned back into a key).
CREATE INDEX idx_gateway_keys_prefix ON gateway_keys(prefix);

-- Listing a user's or an org's keys newest first, and usage per key, already have indexes (0001).
-- Memberships are listed per org by the primary key (org_id, user_id).
