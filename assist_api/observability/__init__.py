"""The HTTP side of observability: the request middleware and the state gauges the /metrics route
refreshes. The metrics, request ids and JSON logs themselves live in common.observability."""
