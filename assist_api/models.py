"""The whole platform's table metadata, in one import.

Each layer lists its own tables once (kb.models, gateway.models, and the service's own here:
API keys, reply templates, agent-assist feedback) and the top layer that owns tables, this one, pulls in the layers
below it. So the migration environment imports one module and never reaches into a package's
internals, and no lower layer has to know about a higher one to be migrated."""

from __future__ import annotations

from assist_api.assist import feedback, templates
from assist_api.auth import models as auth
from db.base import Base
from gateway import models as gateway
from kb import models as kb

# The modules that declare tables; importing them registers the tables on db.base.Base.
__all__ = ["auth", "feedback", "gateway", "kb", "metadata", "templates"]

metadata = Base.metadata
