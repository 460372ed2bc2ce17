"""Provider adapters: one folder per provider, registered once in registry.py."""
