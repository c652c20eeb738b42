"""Every endpoint is documented: a description, and an example for every JSON request body."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assist_api.app import create_app
from config.settings import Settings


def test_every_operation_is_described_with_examples(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'o.sqlite3'}", var_dir=tmp_path / "var"))
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    undocumented, without_example = [], []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if not op.get("description"):
                undocumented.append(f"{method.upper()} {path}")
            body = op.get("requestBody")
            if body:
                name = body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
                schema = schemas[name]
                if "examples" not in schema and not any("examples" in p for p in schema["properties"].values()):
                    without_example.append(f"{method.upper()} {path}")
    assert undocumented == []
    assert without_example == []
    assert len(spec["paths"]) >= 20


def _stated(schema: dict, schemas: dict) -> bool:
    """A schema that says what is in it: a named model, an object with properties, or a list
    or map of such (an empty `{}` or a bare `object` says nothing)."""
    if "$ref" in schema:
        return _stated(schemas[schema["$ref"].split("/")[-1]], schemas)
    if schema.get("type") == "array":
        return _stated(schema.get("items", {}), schemas)
    if schema.get("properties"):
        return True
    if isinstance(schema.get("additionalProperties"), dict):
        return _stated(schema["additionalProperties"], schemas)
    return any(_stated(s, schemas) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def test_every_json_response_states_its_shape(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'o.sqlite3'}", var_dir=tmp_path / "var"))
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    vague, json_operations = [], 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for code, response in op["responses"].items():
                media = response.get("content", {}).get("application/json")
                if not code.startswith("2") or media is None:
                    continue  # streams, pages, CSV and metrics text declare their own media types
                json_operations += 1
                if not _stated(media.get("schema", {}), schemas):
                    vague.append(f"{method.upper()} {path} {code}")
    assert vague == []
    assert json_operations >= 30
