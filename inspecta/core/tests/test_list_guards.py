"""No list operation of the API goes without a query-count guard (STYLE.md 14).

A GET operation is a list when its answer is an array or carries ``items``, or when its
path names a collection (it does not end in a path parameter) and it is not one of the
single documents named in ``NOT_LISTS``. Each app's ``tests/test_list_queries.py``
declares, with ``guards(...)``, the operations it guards."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import inspecta
from inspecta.core.testing.queries import GUARDED_OPERATIONS

# Single documents served at a collection-like path, with why they are not lists.
NOT_LISTS = {
    "inspecta_reports_api_report_qr": "one report's QR image",
    "inspecta_reports_api_report_stamped_pdf": "one report's stamped PDF",
    "inspecta_accounts_api_me": "the signed-in user",
    "inspecta_ledger_api_checkpoint": "the latest checkpoint",
    "inspecta_ledger_api_key": "the active verifier key",
    "inspecta_ledger_api_proof_inclusion": "one proof",
    "inspecta_ledger_api_proof_consistency": "one proof",
    "inspecta_ledger_api_checkpoint_timestamp": "one timestamp token",
    "inspecta_exchange_api_ping": "an echo of the request",
    "inspecta_sampling_api_sample_challenge": "the challenge of one confirmation",
    "inspecta_sampling_api_handover_challenge": "the challenge of one identity proof",
    "inspecta_sampling_api_commission_challenge": "the challenge of one confirmation",
    "inspecta_sampling_api_batch_challenge": "the challenge of one confirmation",
    "inspecta_sampling_api_custody_challenge": "the challenge of one confirmation",
}


def _schema():
    from inspecta.api import api

    return api.get_openapi_schema()


def _is_list(doc, path: str, operation: dict) -> bool:
    schemas = doc.get("components", {}).get("schemas", {})
    answer = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    schema = answer.get("schema", {})
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array" or "items" in schema.get("properties", {}):
        return True
    return not path.rstrip("/").endswith("}") and operation["operationId"] not in NOT_LISTS


def list_operations() -> set[str]:
    doc = _schema()
    return {
        operation["operationId"]
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method == "get" and _is_list(doc, path, operation)
    }


def guarded_operations() -> set[str]:
    for app in pkgutil.iter_modules(inspecta.__path__):
        if app.ispkg and (Path(inspecta.__path__[0]) / app.name / "tests" / "test_list_queries.py").exists():
            importlib.import_module(f"inspecta.{app.name}.tests.test_list_queries")
    return set(GUARDED_OPERATIONS)


def test_every_list_operation_has_a_query_count_guard():
    unguarded = list_operations() - guarded_operations()
    assert not unguarded, f"list operations without a query-count guard: {sorted(unguarded)}"


def test_every_guard_names_an_operation_that_exists():
    doc = _schema()
    operations = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert guarded_operations() <= operations, sorted(guarded_operations() - operations)
    assert set(NOT_LISTS) <= operations, sorted(set(NOT_LISTS) - operations)


def test_the_classification_finds_lists():
    """The rule above must recognise the lists it is meant to catch."""

    found = list_operations()
    assert {"inspecta_reports_api_report_list", "inspecta_registry_api_agency_staff"} <= found
    assert "inspecta_reports_api_report_detail" not in found and "inspecta_accounts_api_me" not in found
