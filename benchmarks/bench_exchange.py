"""Cost of RFC 9421 verification on the exchange API (CONTRACT §2).

Figures (one JSON line each, baseline measured in the same run):

1. ``exchange_ping_signed`` requests/s against ``exchange_ping_unsigned_twin``: the same
   operation body and serialisation, through the full middleware stack (call log
   included), once behind ``signature_auth`` and once without auth. In-process WSGI by
   default; ``--http`` runs gunicorn sync workers on loopback and a threaded Python load
   generator instead (set ``DATABASE_URL`` to PostgreSQL for the issue's set-up). Target
   ratio >= 0.8.
2. ``exchange_verify_us`` microseconds per verification (parse, key lookup, digest,
   signature, nonce store) for HMAC-SHA256 and Ed25519, against the cost of reading the
   key row alone.

Requests are signed before the timed loop (signing is the client's cost).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _django import emit, setup_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))

BENCH_URLCONF = "bench_exchange_urls"


def _bench_urlconf() -> types.ModuleType:
    """``/api/v1/`` of the project plus ``/api/v1/bench/ping-unsigned``, the twin."""

    from django.urls import path
    from django.utils import timezone
    from ninja import NinjaAPI

    import inspecta.urls as project_urls
    from inspecta.exchange.api import PingOut

    twin = NinjaAPI(urls_namespace="bench", docs_url=None, openapi_url=None)

    @twin.api_operation(["GET", "POST"], "/ping-unsigned", response=PingOut, auth=None)
    def ping_unsigned(request: Any) -> dict[str, Any]:
        echo: Any = json.loads(request.body) if request.body else None
        return {
            "ok": True,
            "client_id": 0,
            "client": "twin",
            "key_id": "",
            "organisation": "",
            "region": "",
            "scopes": [],
            "method": request.method,
            "path": request.path,
            "query": dict(request.GET.items()),
            "received_at": timezone.now(),
            "echo": echo,
        }

    module = types.ModuleType(BENCH_URLCONF)
    module.urlpatterns = [path("api/v1/bench/", twin.urls), *project_urls.urlpatterns]  # type: ignore[attr-defined]
    for name in ("handler400", "handler403", "handler404", "handler500"):
        setattr(module, name, getattr(project_urls, name))
    sys.modules[BENCH_URLCONF] = module
    return module


def _client_credentials(algorithm: str) -> tuple[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from django.db.models import Max
    from inspecta_client import Signer

    from inspecta.accounts.choices import OrganisationKind, Role
    from inspecta.core.testing.factories import OrganisationFactory, UserFactory, authority_tree
    from inspecta.exchange import services
    from inspecta.exchange.models import ExchangeClient

    if not hasattr(_client_credentials, "tree"):
        _client_credentials.tree = authority_tree()  # type: ignore[attr-defined]
    tree = _client_credentials.tree  # type: ignore[attr-defined]
    n = (ExchangeClient.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    agency = OrganisationFactory(name=f"基准机构{n}", kind=OrganisationKind.AGENCY, level="", region_code="440100")
    admin = UserFactory(username=f"bench_agency{n}", organisation=agency, roles=[Role.AGENCY_ADMIN])
    application = services.application_submit(
        actor=admin,
        system_name=f"bench-{algorithm}",
        auth_method=algorithm,
        contact_name="基准",
        contact_phone="13800000000",
        scopes=["files:upload"],
    )
    client, issued = services.application_approve(actor=tree["gz_admin"], application=application)
    services.client_update(actor=tree["gz_admin"], client=client, rate_limit_per_minute=0)
    if algorithm == "hmac-sha256":
        secret = services.key_secret_reveal(actor=admin, key=issued.key)
        return issued.key.key_id, Signer(issued.key.key_id, secret=secret, validity=300)
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    services.key_register_public(actor=admin, key=issued.key, public_key=pem)
    return issued.key.key_id, Signer(issued.key.key_id, private_key=private, validity=300)


BODY = json.dumps({"records": [{"id": "GZ-2026-000123", "value": 42.5}]}).encode()


def _rate(calls: list[Callable[[], Any]], seconds: float) -> float:
    """Requests per second over a list of prepared calls (each used once)."""

    calls[0]()  # warm up
    start = time.perf_counter()
    done = 0
    for call in calls[1:]:
        call()
        done += 1
        if time.perf_counter() - start >= seconds:
            break
    return done / (time.perf_counter() - start)


def in_process(seconds: float) -> None:
    from django.conf import settings
    from django.test import Client
    from django.urls import clear_url_caches

    _bench_urlconf()
    settings.ROOT_URLCONF = BENCH_URLCONF
    clear_url_caches()
    _key_id, signer = _client_credentials("hmac-sha256")
    client = Client()
    url = "http://testserver/api/v1/exchange/ping"
    budget = int(seconds * 5000)

    def signed_call(headers: dict[str, str]) -> Callable[[], Any]:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}

        def call() -> None:
            response = client.post("/api/v1/exchange/ping", BODY, content_type="application/json", **extra)
            assert response.status_code == 200, response.content

        return call

    def unsigned() -> None:
        response = client.post("/api/v1/bench/ping-unsigned", BODY, content_type="application/json")
        assert response.status_code == 200, response.content

    signed_calls = [signed_call(signer.headers("POST", url, BODY)) for _i in range(budget)]
    signed_rate = _rate(signed_calls, seconds)
    unsigned_rate = _rate([unsigned] * budget, seconds)
    emit(
        "exchange_ping_signed",
        signed_rate,
        "req/s",
        "exchange_ping_unsigned_twin",
        unsigned_rate,
        mode="in-process WSGI",
        database=settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    )


def over_http(seconds: float, workers: int, concurrency: int) -> None:
    """gunicorn sync workers on loopback; a threaded load generator (requests)."""

    import requests
    from django.conf import settings

    _key_id, signer = _client_credentials("hmac-sha256")
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_exchange_settings", "PYTHONPATH": _settings_dir()}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench_exchange_wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _i in range(150):
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)

        def load(make: Callable[[requests.Session], requests.Response]) -> float:
            deadline = time.perf_counter() + seconds
            counts = []

            def worker(_n: int) -> int:
                done = 0
                with requests.Session() as session:
                    while time.perf_counter() < deadline:
                        response = make(session)
                        assert response.status_code == 200, response.text
                        done += 1
                return done

            start = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                counts = list(pool.map(worker, range(concurrency)))
            return sum(counts) / (time.perf_counter() - start)

        def signed(session: requests.Session) -> requests.Response:
            url = base + "/api/v1/exchange/ping"
            headers = {"Content-Type": "application/json", **signer.headers("POST", url, BODY)}
            return session.post(url, data=BODY, headers=headers, timeout=30)

        def unsigned(session: requests.Session) -> requests.Response:
            return session.post(
                base + "/api/v1/bench/ping-unsigned",
                data=BODY,
                headers={"Content-Type": "application/json"},
                timeout=30,
            )

        load(unsigned)  # warm up both paths
        unsigned_rate = load(unsigned)
        signed_rate = load(signed)
        emit(
            "exchange_ping_signed_http",
            signed_rate,
            "req/s",
            "exchange_ping_unsigned_twin_http",
            unsigned_rate,
            mode=f"gunicorn sync x{workers}, {concurrency} client threads (signing in the client threads)",
            database=settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _settings_dir() -> str:
    """Settings and WSGI modules for the gunicorn workers: base settings + the twin route."""

    folder = Path(tempfile.mkdtemp(prefix="inspecta-bench-exchange-"))
    (folder / "bench_exchange_settings.py").write_text(
        "from inspecta.settings.base import *  # noqa\nROOT_URLCONF = 'bench_exchange_urlmod'\nDEBUG = False\n"
    )
    (folder / "bench_exchange_urlmod.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "import bench_exchange\n"
        "module = bench_exchange._bench_urlconf()\n"
        "urlpatterns = module.urlpatterns\n"
        "handler400, handler403, handler404, handler500 = (module.handler400, module.handler403, module.handler404, module.handler500)\n"
    )
    (folder / "bench_exchange_wsgi.py").write_text(
        "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"
    )
    return os.pathsep.join([str(folder), str(ROOT), str(ROOT / "clients" / "python" / "src")])


def verification_cost(rounds: int) -> None:
    from django.test import RequestFactory

    from inspecta.exchange.auth import verify_signed_request
    from inspecta.exchange.models import ClientKey

    factory = RequestFactory()
    url = "http://testserver/api/v1/exchange/ping"
    figures: dict[str, float] = {}
    for algorithm in ("hmac-sha256", "ed25519"):
        key_id, signer = _client_credentials(algorithm)
        requests_ = []
        for _i in range(rounds + 1):
            headers = signer.headers("POST", url, BODY)
            requests_.append(
                factory.post(
                    "/api/v1/exchange/ping",
                    BODY,
                    content_type="application/json",
                    **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
                )
            )
        verify_signed_request(requests_[0])
        start = time.perf_counter()
        for request in requests_[1:]:
            verify_signed_request(request)
        figures[algorithm] = (time.perf_counter() - start) / rounds * 1e6

        start = time.perf_counter()
        for _i in range(rounds):
            ClientKey.objects.select_related("client__organisation").filter(key_id=key_id).first()
        figures[f"{algorithm}_lookup"] = (time.perf_counter() - start) / rounds * 1e6
    for algorithm in ("hmac-sha256", "ed25519"):
        emit(
            f"exchange_verify_us_{algorithm.replace('-', '_')}",
            figures[algorithm],
            "us/request",
            "orm_key_row_read_us",
            figures[f"{algorithm}_lookup"],
            rounds=rounds,
            includes="parse, key lookup, policy, digest, signature base, signature, nonce store",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--http", action="store_true", help="gunicorn + loopback load generator")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    args, _unknown = parser.parse_known_args()
    setup_django()
    in_process(args.seconds)
    verification_cost(args.rounds)
    if args.http:
        over_http(args.seconds * 2, args.workers, args.concurrency)


if __name__ == "__main__":
    main()
