"""The ``inspecta`` console command (CONTRACT §7): serving, workers, data, checks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspecta.settings.base")
    import django

    django.setup()


def _manage(*args: str, **options: Any) -> None:
    _django()
    from django.core.management import call_command

    call_command(*args, **options)


@click.group(help="Inspecta 建设工程检测监管信息服务平台 command line.")
def main() -> None:
    pass


@main.command(help="Apply migrations, create the cache table, collect static files, load reference data.")
def setup() -> None:
    _manage("migrate", "--no-input", verbosity=1)
    _manage("createcachetable")
    _manage("collectstatic", "--no-input", verbosity=0)
    _manage("load_reference")


@main.command(help="Load demo organisations and accounts (idempotent) and print the logins.")
def demo() -> None:
    _manage("load_demo")


@main.command("load-reference", help="Load GB/T 2260 regions and the qualification catalog (idempotent).")
def load_reference() -> None:
    _manage("load_reference")


@main.command("otp-code", help="Print the current TOTP code of a demo account (demo accounts only).")
@click.argument("username")
def otp_code(username: str) -> None:
    _django()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from inspecta.core.demo import demo_totp_code

    try:
        click.echo(demo_totp_code(username))
    except TOTPDevice.DoesNotExist:
        raise click.ClickException(f"{username} is not a demo account with a second factor") from None


@main.command(help="Run the job consumer (huey).")
@click.option("--workers", default=2, show_default=True)
def worker(workers: int) -> None:
    _manage("run_huey", "--workers", str(workers), "--worker-type", "thread")


def served_address(host: str, port: int) -> str:
    """``host:port`` as a browser on this machine reaches it: a wildcard bind
    (``0.0.0.0``, ``::``) names the loopback address, an IPv6 address is bracketed."""

    host = host.strip("[]")
    if host in ("", "0.0.0.0"):  # noqa: S104 - names the wildcard, binds nothing
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _fix_log_origin() -> None:
    """Fix the log's origin at the node's first start; refuse to serve under another
    configured one (``ledger.services.log_origin_fix``)."""

    _django()
    from django.db import DatabaseError

    from inspecta.ledger.services import LogError, log_origin_fix

    try:
        origin = log_origin_fix()
    except LogError as exc:
        raise click.ClickException(str(exc)) from None
    except DatabaseError:  # not migrated yet: fixed by the first checkpoint instead
        return
    click.echo(f"Transparency log origin: {origin}")


@main.command(help="Serve the web application with a job consumer in the same command.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), show_default="8000 or $PORT")
@click.option("--workers", default=2, show_default=True, help="web worker processes")
@click.option("--no-jobs", is_flag=True, help="do not start the job consumer")
def serve(host: str, port: int, workers: int, no_jobs: bool) -> None:
    """The web server and the job consumer, supervised: a consumer that dies is reaped
    and started again (after a pause that grows while it keeps dying); the web server
    ending ends everything. Uploads a crash left at their length are finished first."""

    # the served address is the default PUBLIC_BASE_URL of every process (settings)
    os.environ["INSPECTA_SERVED_ADDRESS"] = served_address(host, port)
    os.environ["PORT"] = str(port)
    _fix_log_origin()
    env = {**os.environ}
    env.setdefault("DJANGO_SETTINGS_MODULE", "inspecta.settings.base")
    _recover_uploads(env)

    def start_consumer() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "inspecta.cli", "worker"], env=env, cwd=ROOT)

    children: dict[str, subprocess.Popen[bytes]] = {}
    if not no_jobs:
        children["jobs"] = start_consumer()
    children["web"] = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "inspecta.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ],
        env=env,
        cwd=ROOT,
    )
    click.echo(f"Inspecta serving at http://{host}:{port}/  (Ctrl-C to stop)")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    pause = 1.0
    while any(child.returncode is None for child in children.values()):
        try:
            pid, status = os.wait()  # reaps every child that ends, so none stays a zombie
        except ChildProcessError:
            break
        code = os.waitstatus_to_exitcode(status)
        if pid == children["web"].pid:
            children["web"].returncode = code
            stop(signal.SIGTERM, None)
        elif "jobs" in children and pid == children["jobs"].pid:
            children["jobs"].returncode = code
            if not stopping:
                click.echo(f"job consumer exited ({code}); starting it again in {pause:.0f} s", err=True)
                started = time.monotonic()
                time.sleep(pause)
                if not stopping:
                    children["jobs"] = start_consumer()
                # a consumer that keeps dying at once is started less and less often
                pause = min(pause * 2, 60.0) if time.monotonic() - started < 60 else 1.0
    sys.exit(children["web"].returncode or 0)


def _recover_uploads(env: dict[str, str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", env["DJANGO_SETTINGS_MODULE"])
    try:
        _django()
        from inspecta.exchange.uploads import uploads_recover

        recovered = uploads_recover()
    except Exception as exc:  # the database may not be ready yet: the next request recovers
        click.echo(f"uploads not checked at start: {exc.__class__.__name__}", err=True)
        return
    if recovered:
        click.echo(f"finished {recovered} upload(s) left incomplete by a crash")
    from django.db import connections

    connections.close_all()


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, help="Run a Django management command."
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspecta.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["inspecta manage", *args])


# --- transparency log (T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5) -----------


@main.group(help="The transparency log: self-audit, offline check, witnessing, sequencing, keys.")
def log() -> None:
    pass


@log.command(
    "verify",
    help="Self-audit: recompute every entry from the current records and files, the tree and every checkpoint. Exits 1 on any critical problem.",
)
@click.option("--no-progress", is_flag=True, help="no progress bars")
@click.option("--record", "record_findings", is_flag=True, help="also store critical problems as audit findings")
def log_verify(no_progress: bool, record_findings: bool) -> None:
    _django()
    from functools import partial

    from tqdm import tqdm

    from inspecta.ledger import audit, services

    progress = None if no_progress else partial(tqdm, file=sys.stderr, leave=False)
    problems = audit.verify_log(progress=progress)
    critical = [p for p in problems if p.critical]
    for problem in problems:
        click.echo(f"{problem.severity.upper()} {problem.kind}: {problem.summary}")
        for name, value in problem.details.items():
            click.echo(f"    {name}: {value}")
    if record_findings:
        for problem in critical:
            services.finding_record(
                severity=problem.severity, kind=problem.kind, summary=problem.summary, details=problem.details
            )
    if critical:
        click.echo(f"FAILED: {len(critical)} critical problem(s)", err=True)
        sys.exit(1)
    click.echo("OK: every entry, tree node and checkpoint verifies")


@log.command(
    "check",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
    help="Offline verifier using only a node's public endpoints and key (see `inspecta log check --help`).",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def log_check(args: tuple[str, ...]) -> None:
    from inspecta.ledger import logcheck

    sys.exit(logcheck.main(list(args)))


@log.command(
    "witness",
    help="Fetch another node's checkpoint, verify it and its consistency with the last one seen, keep it; exit 1 on a fork.",
)
@click.argument("url")
@click.option("--key", default="", help="verifier key of that node (pinned at the first observation otherwise)")
def log_witness(url: str, key: str) -> None:
    _django()
    from inspecta.ledger.logcheck import FetchError
    from inspecta.ledger.witness import WitnessAlarm, witness_observe

    try:
        result = witness_observe(source=url, verifier_key=key)
    except WitnessAlarm as exc:
        raise click.ClickException(f"ALARM {url}: {exc}") from None
    except FetchError as exc:
        raise click.ClickException(str(exc)) from None
    previous = "first observation" if result.previous_size is None else f"consistent with size {result.previous_size}"
    click.echo(f"OK {result.origin} size {result.size} root {result.root} ({previous})")


@log.command("sequence", help="Integrate pending entries into the tree now and sign a checkpoint if it grew.")
def log_sequence() -> None:
    _django()
    from inspecta.ledger import services

    count = services.sequence_pending()
    checkpoint = services.checkpoint_publish()
    click.echo(
        f"sequenced {count} entries; "
        + (f"checkpoint of size {checkpoint.size}" if checkpoint else "checkpoint unchanged")
    )


@log.command(
    "rotate-key",
    help="Retire the checkpoint signing key (kept in the public history) and sign with a new one; "
    "the SM2 key too when INSPECTA_LOG_SM2_SIGNATURE is on.",
)
def log_rotate_key() -> None:
    _django()
    from inspecta.ledger import services

    key = services.signing_key_rotate()
    services.checkpoint_publish(force=True)
    click.echo(key.verifier_key)


if __name__ == "__main__":
    main()
