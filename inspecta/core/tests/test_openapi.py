"""The OpenAPI document (CONTRACT §1) names each schema once and documents every answer."""

from __future__ import annotations

import enum
import typing
from collections import defaultdict
from typing import Any

import pytest
from pydantic import BaseModel

from inspecta.api import api


def _classes(annotation: Any, seen: set[type]) -> None:
    """Every pydantic model and enum reachable from a type annotation."""

    if isinstance(annotation, type) and annotation in seen:
        return
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        seen.add(annotation)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _classes(field.annotation, seen)
        return
    for argument in typing.get_args(annotation):
        _classes(argument, seen)


def _operation_models() -> set[type]:
    """The body, parameter and response models of every operation of every router."""

    found: set[type] = set()
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in [*operation.models, *operation.response_models.values()]:
                    if isinstance(model, type) and issubclass(model, BaseModel):
                        for field in model.model_fields.values():  # Django Ninja's wrappers
                            _classes(field.annotation, found)
    return found


def _component_name(cls: type) -> str:
    return cls.__name__ if not issubclass(cls, BaseModel) else cls.__name__.split("[")[0]


def test_no_two_schema_classes_share_a_component_name() -> None:
    """``components/schemas`` keeps one schema per name: two classes of the same name
    would document one operation with another's fields."""

    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _operation_models():
        by_name[_component_name(cls)].add(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not clashes, clashes


def test_the_walk_reaches_the_documented_components() -> None:
    """The names checked above are the names the document uses."""

    components = set(api.get_openapi_schema()["components"]["schemas"])
    walked = {_component_name(cls) for cls in _operation_models()}
    assert {"LogKeyOut", "ClientKeyOut", "ReportBatchIn", "ReceiptAcceptedOut", "AgencyFindingOut"} <= components
    assert components <= walked | {"ErrorEnvelope", "ErrorBody"}


@pytest.mark.parametrize(
    ("path", "method", "status", "field"),
    [
        ("/api/v1/log/keys", "get", "200", "LogKeyOut"),
        ("/api/v1/exchange/clients/{client_id}", "get", "200", "ClientKeyOut"),
        ("/api/v1/registry/agencies/{agency_id}/findings", "get", "200", "AgencyFindingOut"),
        ("/api/v1/reports/batch", "post", "200", "ReportBatchOut"),
    ],
)
def test_operations_reference_their_own_schemas(client: Any, path: str, method: str, status: str, field: str) -> None:
    document = client.get("/api/v1/openapi.json").json()
    answer = document["paths"][path][method]["responses"][status]
    assert field in repr(answer) or field in repr(
        [document["components"]["schemas"][ref.rsplit("/", 1)[1]] for ref in _refs(answer)]
    )


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [value["$ref"]] if "$ref" in value else [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_tags_are_in_chinese(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").json()
    tags = {
        tag for operations in document["paths"].values() for op in operations.values() for tag in op.get("tags", [])
    }
    assert tags and all(any("\u4e00" <= ch <= "\u9fff" for ch in tag) for tag in tags), tags


def test_the_tags_list_describes_every_tag_once(client: Any) -> None:
    """One language for the tags (zh-hans): the document's ``tags`` list names each tag
    the operations use, with a description, and no other."""

    document = client.get("/api/v1/openapi.json").json()
    used = {
        tag for operations in document["paths"].values() for op in operations.values() for tag in op.get("tags", [])
    }
    listed = [tag["name"] for tag in document["tags"]]
    assert sorted(listed) == sorted(used)
    assert len(listed) == len(set(listed))
    for tag in document["tags"]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in tag.get("description", "")), tag


# Answers without a body: no content (204), headers only (HEAD), the tus creation (201 + Location).
BODYLESS = {("post", "/api/v1/uploads/", "201")}


def _loose(schema: dict[str, Any]) -> bool:
    """A schema that says nothing of the body: empty, or an object without properties."""

    if not schema:
        return True
    if "$ref" in schema or "anyOf" in schema or "oneOf" in schema or "allOf" in schema:
        return False
    if schema.get("type") == "object":
        return not (schema.get("properties") or schema.get("additionalProperties"))
    return False


def test_every_operation_declares_its_success_answer_with_a_schema(client: Any) -> None:
    """Every operation documents at least one 2xx answer, and every 2xx answer with a body
    has a schema for each media type; JSON bodies are described, not ``{}``."""

    document = client.get("/api/v1/openapi.json").json()
    missing = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            successes = {status: answer for status, answer in op["responses"].items() if status.startswith("2")}
            if not successes:
                missing.append((method, path, "no 2xx answer"))
            for status, answer in successes.items():
                content = answer.get("content")
                if not content:
                    if status != "204" and method != "head" and (method, path, status) not in BODYLESS:
                        missing.append((method, path, status, "no content"))
                    continue
                for media, body in content.items():
                    schema = body.get("schema") or {}
                    if _loose(schema):
                        missing.append((method, path, status, media, schema))
    assert not missing, missing


def test_the_check_finds_an_undeclared_answer() -> None:
    assert _loose({}) and _loose({"type": "object"}) and not _loose({"$ref": "#/components/schemas/X"})
