"""Prometheus metrics, request ids and structured JSON logs, shared by the gateway and the action
server. The HTTP middleware that feeds them stays in assist_api.observability."""
