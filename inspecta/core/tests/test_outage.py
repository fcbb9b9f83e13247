"""A database outage answers 503 with Retry-After, never 500 (inspecta.core.outage).

The outage is the database driver refusing every statement, injected with Django's own
query hook (``connection.execute_wrapper``), as a restarting PostgreSQL does."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from inspecta.core.testing.access import login_verified

pytestmark = pytest.mark.django_db


def _down(exc_class):
    def wrapper(execute, sql, params, many, context):
        raise exc_class("server closed the connection unexpectedly")

    return wrapper


@pytest.mark.parametrize("exc_class", [OperationalError, InterfaceError])
def test_api_answers_503_with_retry_after(tree, exc_class):
    client = Client(raise_request_exception=False)
    login_verified(client, tree["gz_supervisor"])
    with connection.execute_wrapper(_down(exc_class)):
        signed_in = client.get("/api/v1/projects/")
        public = Client(raise_request_exception=False).get("/api/v1/log/entries/1")
    for response in (signed_in, public):
        assert response.status_code == 503, response.content
        assert response["Retry-After"].isdigit()
        assert response.json()["error"]["code"] == "database_unavailable"


def test_page_answers_503_with_retry_after(tree):
    from inspecta.exchange.services import upload_token_issue

    client = Client(raise_request_exception=False)
    login_verified(client, tree["gz_supervisor"])
    token, _seconds = upload_token_issue(user=tree["gz_supervisor"])
    with connection.execute_wrapper(_down(OperationalError)):
        page = client.get("/")
        upload = Client(raise_request_exception=False).post(  # a plain Django view: handler500
            "/api/v1/uploads/",
            HTTP_TUS_RESUMABLE="1.0.0",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_UPLOAD_LENGTH="10",
        )
    assert page.status_code == 503 and page["Retry-After"].isdigit()
    assert "数据库暂时不可用" in page.content.decode()
    assert upload.status_code == 503 and upload.json()["error"]["code"] == "database_unavailable"


def test_other_errors_stay_500(tree):
    client = Client(raise_request_exception=False)

    def broken(execute, sql, params, many, context):
        raise RuntimeError("a bug")

    with connection.execute_wrapper(broken):
        response = client.get("/api/v1/log/entries/1")
    assert response.status_code == 500
