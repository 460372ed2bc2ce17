"""The OpenAI wire format, shared by every OpenAI-compatible provider through one adapter factory."""
