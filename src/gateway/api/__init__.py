"""Thin HTTP handlers: parse and validate at the boundary (pydantic), then call the core."""
