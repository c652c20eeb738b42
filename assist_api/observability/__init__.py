"""Prometheus metrics, request ids and structured JSON logs shared by the gateway and the action server."""
