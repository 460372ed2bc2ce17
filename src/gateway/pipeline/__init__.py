"""The request's way through the gateway: one module per stage, a RequestContext between them."""
