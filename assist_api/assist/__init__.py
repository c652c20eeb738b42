"""Agent assist: ticket classification, reply suggestions and the template library."""
