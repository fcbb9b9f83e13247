"""Checks that an answer is what the OpenAPI document says (CONTRACT §1): for views
that write their JSON body themselves (cached bytes, caching headers) the document's
schema is declared separately, and a test proves the two agree."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema_rs


@cache
def _document() -> str:
    from inspecta.api import api

    return json.dumps(api.get_openapi_schema())


def documented_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema of the answer ``status`` of ``method path`` (a path template as in
    the document, e.g. ``/api/v1/log/entries/{index}``), with the document's components."""

    document = json.loads(_document())
    answer = document["paths"][path][method.lower()]["responses"][str(status)]
    schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
    assert schema, f"{method} {path} {status}: no schema"
    return {**schema, "components": document["components"]}


def assert_documented(response: Any, path: str, method: str = "get") -> Any:
    """The body of ``response`` (Django's test client or ``requests``), after checking
    that it is JSON valid against the schema the document declares for its status; the
    errors are listed otherwise."""

    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    body = json.loads(response.content)
    validator = jsonschema_rs.validator_for(documented_schema(path, method, response.status_code))
    errors = [str(error) for error in validator.iter_errors(body)]
    assert not errors, errors
    return body
