"""Abuse protection of the gateway: rate limits on the customer endpoints and security headers."""
