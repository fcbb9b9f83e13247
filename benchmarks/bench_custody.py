"""Witnessed-sampling confirmation over the signed API (docs/sampling.md "Benchmarks").

PostgreSQL only, as ``bench_reports.py`` (whose servers, load generator, signed-insert
floor and profiler this reuses): ``DATABASE_URL`` when it names PostgreSQL (a scratch
database), else the scratch database ``inspecta_bench_custody`` on
``postgres://postgres@127.0.0.1:5432``, dropped and recreated at start; the cache is Redis
(``REDIS_URL``, else ``redis://127.0.0.1:6379/9``, flushed); load by ``wrk``.

Fixture through the services: the reports fixture (an agency with its Ed25519 client,
for the floor), a project with a contractor and a supervising firm, their sampler and
witness with a passkey each (software authenticators, ``inspecta.accounts.testing``),
the supervising firm's site app (Ed25519 key, scopes ``custody:write`` and
``files:upload``, applied for by its party admin, approved by the district authority),
one live photo uploaded by the app, and as many samples recorded and confirmed by the
sampler as the timed run needs.

Figure (one JSON line): ``sampling_witness_confirm_signed`` req/s — the witness's
confirmation ``POST /api/v1/sampling/samples/{id}/confirmations`` signed by the app with
``person_id`` (signature, idempotency, acting for the person, passkey assertion check,
live photo hash, seal signed with Ed25519, two log entries, audit rows, call log) —
against ``django_signed_insert``, the bare INSERT behind the product's signature check
(``/bench/baseline/reports/signed`` of ``baseline_django.py``, the floor of any signed
call), both measured in this run on the same servers. Target ratio >= 0.5. ``profile``:
one confirmation profiled in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_reports as br  # noqa: E402

SCRATCH_DB = "inspecta_bench_custody"


def log(message: str) -> None:
    sys.stderr.write(f"[bench_custody {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def choose_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if br._is_postgres(url):
        return url
    br.SCRATCH_DB = SCRATCH_DB
    return br.choose_database()


class Custody:
    """The chain-of-custody fixture: scene, the firm's app (``signer``), a live photo."""

    scene: dict[str, Any]
    signer: Any
    live_photo: str
    made: int = 0


def build_custody() -> Custody:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from inspecta_client import Signer

    from inspecta.accounts.choices import Role
    from inspecta.accounts.models import User
    from inspecta.core.files import file_store
    from inspecta.core.testing.factories import UserFactory
    from inspecta.exchange import services as exchange_services
    from inspecta.sampling.testing import photo_bytes, sampling_scene

    names = ("gz_supervisor", "gz_admin", "th_admin", "sz_supervisor")
    tree = {n: User.objects.get(username=n) for n in names}
    c = Custody()
    c.scene = sampling_scene(tree, 2)
    for phone in (c.scene["sampler_phone"], c.scene["witness_phone"]):
        phone.counting = False  # requests arrive out of order under load (synced passkeys count 0)
    firm = c.scene["firm"]
    admin = UserFactory(username="bench_firm_admin", organisation=firm, roles=[Role.PARTY_ADMIN])
    application = exchange_services.application_submit(
        actor=admin,
        system_name="bench-site-app",
        auth_method="ed25519",
        contact_name="基准",
        contact_phone="13800000000",
        scopes=["custody:write", "files:upload"],
    )
    client, issued = exchange_services.application_approve(actor=tree["th_admin"], application=application)
    exchange_services.client_update(actor=tree["th_admin"], client=client, rate_limit_per_minute=0)
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    exchange_services.key_register_public(actor=admin, key=issued.key, public_key=pem)
    c.signer = Signer(issued.key.key_id, private_key=private, validity=300)
    from inspecta.core.actors import Actor

    app = Actor.for_client(client, issued.key)
    stored = file_store(photo_bytes(7001), organisation_id=firm.pk, purpose="upload", name="live.png", actor=app)
    c.live_photo = str(stored.pk)
    return c


def confirmed_samples(c: Custody, count: int) -> list[int]:
    """``count`` samples recorded and confirmed by the sampler (through the services),
    each waiting for its witness."""

    from inspecta.accounts.passkeys import identity_challenge_options
    from inspecta.core.files import file_store
    from inspecta.sampling import services
    from inspecta.sampling.testing import photo_bytes
    from inspecta.sampling.testing import record_kwargs as kwargs_of

    scene, sampler = c.scene, c.scene["sampler"]

    def stored(seed: int) -> Any:
        return file_store(photo_bytes(seed), organisation_id=sampler.organisation_id, purpose="photo", actor=sampler)

    specimen, placard, live = stored(7101), stored(7102), stored(7103)
    out = []
    for _i in range(count):
        c.made += 1
        kwargs = kwargs_of(scene, seed=c.made, count=1)
        kwargs["photos"] = [services.PhotoIn("specimen", specimen), services.PhotoIn("placard", placard)]
        kwargs["tags"] = [services.TagIn(f"BENCH-{uuid.uuid4().hex[:12]}")]
        sample = services.sample_record(**kwargs)
        options = identity_challenge_options(user=sampler, challenge=bytes.fromhex(sample.record_sha256))
        services.sample_confirm(
            actor=sampler,
            sample=sample,
            live_photo=live,
            assertion=scene["sampler_phone"].get(options),
            latitude="23.130100",
            longitude="113.330100",
        )
        out.append(sample.pk)
    return out


def confirm_body(c: Custody, sample_id: int) -> bytes:
    """The witness's confirmation of ``sample_id`` as the app sends it: the passkey
    assertion made on the witness's phone over the witness digest."""

    from inspecta.accounts.passkeys import identity_challenge_options
    from inspecta.sampling import services
    from inspecta.sampling.models import Sample

    witness = c.scene["witness"]
    sample = Sample.objects.get(pk=sample_id)
    challenge = services.witness_digest(sample, witness.pk)
    options = identity_challenge_options(user=witness, challenge=bytes.fromhex(challenge))
    body = {
        "assertion": c.scene["witness_phone"].get(options),
        "live_photo_id": c.live_photo,
        "latitude": "23.130200",
        "longitude": "113.330200",
        "person_id": witness.pk,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def confirm_path(sample_id: int) -> str:
    return f"/api/v1/sampling/samples/{sample_id}/confirmations"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each timed wrk run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (clients)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--pool-factor", type=float, default=1.0, help="scale the prepared request pools")
    args, _unknown = parser.parse_known_args()
    if br.shutil.which("wrk") is None:
        raise SystemExit("bench_custody needs wrk (apt-get install -y wrk)")

    dsn = choose_database()
    br.choose_redis()
    if "INSPECTA_VAR_DIR" not in os.environ:
        os.environ["INSPECTA_VAR_DIR"] = tempfile.mkdtemp(prefix="inspecta-bench-custody-var-")
    log(f"database {urlsplit(dsn).path[1:]}, cache {os.environ['REDIS_URL']}")
    from _django import emit, setup_django

    setup_django()
    from django.db import connection

    fx = br.build_fixture(1)
    c = build_custody()
    log("fixture ready")

    folder = br.settings_dir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_reports_settings",
        "PYTHONPATH": os.pathsep.join([str(folder), str(HERE), str(br.ROOT)]),
        "INSPECTA_BENCH_AGENCY_ID": str(fx.agency.pk),
    }
    cores = os.cpu_count() or 1
    wrk = br.Wrk(args.threads, args.connections, args.seconds)
    run_id = uuid.uuid4().hex[:6]

    # one confirmation profiled in-process (also the cost that sizes the request pool)
    profiled = confirmed_samples(c, 2)
    shim = type("Shim", (), {"signer": c.signer})()
    bodies = {str(pk): confirm_body(c, pk) for pk in profiled}
    profile = br.profile_call(
        shim,
        lambda tag: confirm_path(int(tag)),
        lambda tag: bodies[tag],
        tags=(str(profiled[0]), str(profiled[1])),
    )
    per_call = profile["wall_ms"] / 1000
    n_confirm = int((cores / per_call * args.seconds * 1.5 + 2 * args.connections) * args.pool_factor)
    log(f"recording and confirming {n_confirm} samples for the witness")
    started = time.perf_counter()
    pending = confirmed_samples(c, n_confirm)
    log(f"made in {time.perf_counter() - started:.0f}s; signing the witness's confirmations")
    connection.close()

    servers: list[br.Server] = []
    try:
        server = br.start_gunicorn(args.workers, env)
        servers.append(server)
        port = server.port
        plain = [json.dumps(br.report_body(fx, f"CBASE-{run_id}-{i:06d}", baseline=True)).encode() for i in range(2000)]
        base_insert = br.json_pool(wrk, "/bench/baseline/reports", port, plain)
        django_ins = wrk.run(server.base, base_insert)
        br._check(django_ins, "django insert", unique=False)
        n_floor = int((django_ins["rate"] * args.seconds * 1.5 + 200) * args.pool_factor)
        floor_pool = wrk.pool(
            [br.signed_post(fx, port, "/bench/baseline/reports/signed", plain[i % len(plain)]) for i in range(n_floor)]
        )
        floor = wrk.run(server.base, floor_pool)
        br._check(floor, "django signed insert", unique=True)

        confirmations = wrk.pool(
            [br.signed_post(c, port, confirm_path(pk), confirm_body(c, pk)) for pk in pending]  # type: ignore[arg-type]
        )
        run = wrk.run(server.base, confirmations)
        br._check(run, "signed witness confirmation", unique=True)
        from inspecta.sampling.models import Sample

        sealed = Sample.objects.filter(pk__in=pending, status="sealed").count()
        emit(
            "sampling_witness_confirm_signed",
            run["rate"],
            "req/s",
            "django_signed_insert",
            floor["rate"],
            target_ratio=0.5,
            **br.latency(run),
            includes="signature, idempotency, acting for the person, passkey assertion check, live photo hash, "
            "seal (Ed25519), witness record and seal log entries, audit rows, call log",
            baseline_p99_ms=br._ms(floor["p99_us"]),
            baseline_django_insert=round(django_ins["rate"], 1),
            samples_sealed=sealed,
            profile=profile,
            machine=f"{cores} cores",
            connections=args.connections,
            gunicorn_workers=args.workers,
            load=f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s, pre-built signed requests",
            database="postgresql",
            cache="redis",
        )
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
