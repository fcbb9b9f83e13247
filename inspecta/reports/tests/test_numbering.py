"""Gapless serial numbers (CONTRACT §6; Nanchang 三(一)): a failed acceptance returns its
number, and concurrent acceptances on PostgreSQL queue on the counter row lock."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from inspecta.reports import services
from inspecta.reports.models import Report, SerialCounter

from .factories import approved_agency, project_with, submission


class Boom(RuntimeError):
    pass


def _failing_log_append(real):
    def wrapper(*, kind, record, files=()):
        number = getattr(getattr(record, "report", None), "report_number", "")
        if "FAIL" in number:
            raise Boom(number)  # after the serial number was taken, before commit
        return real(kind=kind, record=record, files=files)

    return wrapper


@pytest.mark.django_db
def test_failed_transaction_does_not_burn_a_number(tree, monkeypatch):
    agency, admin, made = approved_agency(tree, 701)
    project = project_with(tree, [agency])
    monkeypatch.setattr(services, "log_append", _failing_log_append(services.log_append))
    with pytest.raises(Boom):
        services.report_submit(actor=admin, **submission(agency, made, project, "R-FAIL-1"))
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-OK-1"))
    assert report.serial_no == 1
    assert SerialCounter.objects.get(region_code=report.issuing_region, year=report.year).last == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_are_gapless_on_postgresql(tree, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row-lock race needs PostgreSQL (DATABASE_URL=postgres://...)")
    from inspecta.core import services as core_services

    core_services.regions_load()
    core_services.catalog_load()
    agency, admin, made = approved_agency(tree, 702)
    project = project_with(tree, [agency])
    monkeypatch.setattr(services, "log_append", _failing_log_append(services.log_append))
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
    assert SerialCounter.objects.get().last == expected
