"""The runtime runs without the training libraries (the `train` and `bench` extras).

`make run`'s environment and the deploy images install neither torch, sentence-transformers
nor matplotlib. A child process with those imports blocked starts every runtime piece (the
service with its full lifespan, the action server, the process launcher, the `kb` verbs that
serve, search, evaluate, import and publish) and answers a KB search, so a future runtime
import of a training library fails here, not in production.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from config.settings import PROJECT_ROOT

TRAINING_LIBRARIES = ("torch", "sentence_transformers", "transformers", "matplotlib")

CHILD = textwrap.dedent(
    """
    import importlib.machinery, json, sys

    BLOCKED = set(sys.argv[1].split(","))
    attempts = []

    class HidingPathFinder(importlib.machinery.PathFinder):
        # sys.path's finder, blind to the blocked packages: to the code (find_spec, optional
        # imports, plain imports) they look exactly as if they were not installed.
        @classmethod
        def find_spec(cls, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                attempts.append(name)
                return None
            return super().find_spec(name, path, target)

    sys.meta_path[:] = [HidingPathFinder if f is importlib.machinery.PathFinder else f for f in sys.meta_path]

    from pathlib import Path
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from assist_api.app import create_app
    from config.settings import PROJECT_ROOT, Settings
    from kb.cli import app as kb_cli
    import actions.server
    import stack.__main__

    var = Path(sys.argv[2])
    db = f"sqlite:///{var / 'kb.sqlite3'}"
    demo = PROJECT_ROOT / "kb" / "demo"
    cli = CliRunner()
    results = {}
    verbs = [
        ["import", str(demo / "telecom_kb.yaml"), "--db", db],
        ["reindex", "--db", db],
        ["search", "宽带经常掉线怎么办", "--json", "--db", db],
        ["eval", str(demo / "eval" / "dev.jsonl"), "--json", "--db", db],
        ["set-status", "billing-001", "archived", "--db", db],
        ["train", "--out", str(var / "model"), "--db", db],
    ]
    for verb in verbs:
        run = cli.invoke(kb_cli, verb)
        results[verb[0]] = {"exit": run.exit_code, "output": run.output}

    actions.server.create_app("actions")
    with TestClient(create_app(Settings(database_url=db, var_dir=var))) as client:
        reply = client.post("/api/kb/search", json={"query": "宽带经常掉线怎么办", "top_k": 3}).json()
    results["service"] = {"decision": reply["decision"], "top": reply["results"][0]["id"]}
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
    print(json.dumps({"results": results, "attempts": sorted(set(attempts)), "loaded": loaded}))
    """
)


def test_the_runtime_answers_without_the_training_libraries(tmp_path):
    env = {**os.environ, "CS_VAR_DIR": str(tmp_path), "CS_LOG_FORMAT": "text"}
    done = subprocess.run([sys.executable, "-c", CHILD, ",".join(TRAINING_LIBRARIES), str(tmp_path)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    results = report["results"]
    assert report["loaded"] == []
    for verb in ("import", "set-status", "reindex", "search", "eval"):
        assert results[verb]["exit"] == 0, (verb, results[verb]["output"])
    assert json.loads(results["search"]["output"])["decision"] == "answer"
    assert results["service"] == {"decision": "answer", "top": "broadband-006"}
    # Training is the one verb that needs the extra, and it says which one.
    assert results["train"]["exit"] == 1
    assert "pip install -e '.[train]'" in results["train"]["output"]
