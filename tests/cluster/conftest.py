"""The multi-replica topology (stack/cluster.py) for the replica and fault tests: PostgreSQL,
Redis, nginx and two each of Rasa, action server and gateway on loopback. Without nginx or
redis-server they skip with the reason, unless CS_REQUIRE_CLUSTER=1 (CI), where they fail."""

from __future__ import annotations

import os
import shutil

import pytest

from stack.rasa_model import rasa_bin


@pytest.fixture(scope="package")
def cluster(tmp_path_factory):
    missing = [b for b in ("nginx", "redis-server") if not (shutil.which(b) or os.path.exists(f"/usr/sbin/{b}"))]
    if missing or not rasa_bin().exists():
        reason = f"missing {', '.join(missing) or 'the Rasa virtualenv'}"
        if os.environ.get("CS_REQUIRE_CLUSTER"):
            pytest.fail(f"the multi-replica topology is required (CS_REQUIRE_CLUSTER) but {reason}")
        pytest.skip(reason)
    from stack.cluster import start_cluster
    from stack.faults import FAULT_SUITE_ENV

    running = start_cluster(tmp_path_factory.mktemp("cluster"), replicas=2, extra_env=FAULT_SUITE_ENV)
    yield running
    running.stop()
