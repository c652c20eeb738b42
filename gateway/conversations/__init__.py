"""Conversations and messages owned by the gateway, routed by state."""
