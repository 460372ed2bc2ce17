"""Encryption at rest for provider credentials: the keyring (GATEWAY_ENCRYPTION_KEY) and the sealed format."""
