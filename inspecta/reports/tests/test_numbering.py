"""Gapless serial numbers (CONTRACT §6; Nanchang 三(一)): a failed acceptance returns its
number, and concurrent acceptances on PostgreSQL queue on the counter row lock."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from inspecta.core.models import SequenceCounter
from inspecta.reports import services
from inspecta.reports.codes import SERIAL_COUNTER
from inspecta.reports.models import Report
from inspecta.reports.testing import approved_agency, project_with, submission


class Boom(RuntimeError):
    pass


def _failing_log_append(real):
    def wrapper(*, kind, records):
        records = list(records)
        numbers = [getattr(getattr(r, "report", None), "report_number", "") for r in records]
        failing = [n for n in numbers if "FAIL" in n]
        if failing:
            raise Boom(failing[0])  # after the serial numbers were taken, before commit
        return real(kind=kind, records=records)

    return wrapper


@pytest.mark.django_db
def test_failed_transaction_does_not_burn_a_number(tree, monkeypatch):
    agency, admin, made = approved_agency(tree, 701)
    project = project_with(tree, [agency])
    monkeypatch.setattr(services, "log_append_many", _failing_log_append(services.log_append_many))
    with pytest.raises(Boom):
        services.report_submit(actor=admin, **submission(agency, made, project, "R-FAIL-1"))
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-OK-1"))
    assert report.serial_no == 1
    assert SequenceCounter.objects.get(name=SERIAL_COUNTER, scope=report.issuing_region, year=report.year).last == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_are_gapless_on_postgresql(tree, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row-lock race needs PostgreSQL (DATABASE_URL=postgres://...)")
    from inspecta.core import services as core_services

    core_services.regions_load()
    core_services.catalog_load()
    agency, admin, made = approved_agency(tree, 702)
    project = project_with(tree, [agency])
    monkeypatch.setattr(services, "log_append_many", _failing_log_append(services.log_append_many))
    numbers = [f"R-{'FAIL' if i % 4 == 1 else 'OK'}-{i:02d}" for i in range(16)]
    kwargs = {n: submission(agency, made, project, n) for n in numbers}
    barrier = threading.Barrier(len(numbers))
    errors: list[BaseException] = []

    def worker(number: str) -> None:
        try:
            barrier.wait()
            services.report_submit(actor=admin, **kwargs[number])
        except Boom:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    serials = sorted(Report.objects.values_list("serial_no", flat=True))
    expected = len([n for n in numbers if "OK" in n])
    assert serials == list(range(1, expected + 1))
    assert SequenceCounter.objects.get(name=SERIAL_COUNTER).last == expected


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_are_gapless_on_postgresql(tree, monkeypatch):
    """Batches and single submissions racing on one counter: each batch takes a run of
    consecutive numbers under one lock; a failed batch gives its whole run back."""

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row-lock race needs PostgreSQL (DATABASE_URL=postgres://...)")
    from inspecta.core import services as core_services

    core_services.regions_load()
    core_services.catalog_load()
    agency, admin, made = approved_agency(tree, 703)
    project = project_with(tree, [agency])
    monkeypatch.setattr(services, "log_append_many", _failing_log_append(services.log_append_many))
    jobs: list[list[str]] = []
    for b in range(8):
        kind = "FAIL" if b % 3 == 1 else "OK"
        jobs.append([f"B{b}-{kind}-{i}" for i in range(1 if b % 4 == 0 else 5)])
    payloads = []
    for numbers in jobs:
        items = []
        for number in numbers:
            kwargs = submission(agency, made, project, number)
            kwargs.pop("agency")
            items.append(kwargs)
        payloads.append(items)
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(items: list) -> None:
        try:
            barrier.wait()
            services.report_submit_many(actor=admin, agency=agency, items=items)
        except Boom:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    expected = sum(len(numbers) for numbers in jobs if "FAIL" not in numbers[0])
    serials = sorted(Report.objects.values_list("serial_no", flat=True))
    assert serials == list(range(1, expected + 1))
    for numbers in jobs:  # each batch got a consecutive run, in input order
        got = list(
            Report.objects.filter(report_number__in=numbers)
            .order_by("serial_no")
            .values_list("report_number", "serial_no")
        )
        if got:
            assert [n for n, _s in got] == numbers
            assert [s for _n, s in got] == list(range(got[0][1], got[0][1] + len(numbers)))


@pytest.mark.django_db(transaction=True)
def test_one_report_number_per_agency_under_concurrent_submissions_on_postgresql(tree):
    """Eight LIMS requests with one report number and eight Idempotency-Keys at once:
    exactly one report, the seven others 409 ``report_number_taken`` (Nanchang 三(一):
    one number per report of an agency; the database constraint decides, not a look
    before the insert)."""

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (DATABASE_URL=postgres://...)")
    import json

    from django.test import Client

    from inspecta.core import services as core_services
    from inspecta.exchange.testing import approved_client, prepare, send, sign_prepared

    from .test_pages_api import _json_body

    core_services.regions_load()
    core_services.catalog_load()
    agency, admin, made = approved_agency(tree, 704)
    project = project_with(tree, [agency])
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit", "files:upload"])
    body = json.dumps(_json_body(submission(agency, made, project, "R-SAME"))).encode()
    barrier = threading.Barrier(8)
    answers: list[tuple[int, dict]] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            prepared = prepare(
                "POST", "/api/v1/reports/", body, **{"Content-Type": "application/json", "Idempotency-Key": f"k-{n}"}
            )
            sign_prepared(prepared, creds)
            barrier.wait()
            response = send(Client(), prepared)
            answers.append((response.status_code, response.json()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 7, answers
    assert {a["error"]["code"] for s, a in answers if s == 409} == {"report_number_taken"}
    assert Report.objects.filter(agency=agency, report_number="R-SAME").count() == 1
    assert SequenceCounter.objects.get(name=SERIAL_COUNTER).last == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_report_with_the_same_number(tree):
    """The constraint itself, on every database: a row written past the service check
    is refused by the database."""

    from django.db import IntegrityError, transaction

    agency, admin, made = approved_agency(tree, 705)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-ONE"))
    twin = Report.objects.get(pk=report.pk)
    twin.pk = None
    twin.serial_no += 1
    twin.serial_number += "X"
    twin.verification_code += "X"
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.bulk_create([twin])
