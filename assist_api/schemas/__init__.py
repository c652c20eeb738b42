"""Response models of the HTTP API, one module per area, so the OpenAPI document states every
shape. Request bodies stay next to their routes; these describe what the routes return."""
