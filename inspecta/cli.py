"""The ``inspecta`` console command (CONTRACT §7): serving, workers, data, checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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


@main.command(help="Serve the web application with a job consumer in the same command.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), show_default="8000 or $PORT")
@click.option("--workers", default=2, show_default=True, help="web worker processes")
@click.option("--no-jobs", is_flag=True, help="do not start the job consumer")
def serve(host: str, port: int, workers: int, no_jobs: bool) -> None:
    env = {**os.environ}
    env.setdefault("DJANGO_SETTINGS_MODULE", "inspecta.settings.base")
    children: list[subprocess.Popen[bytes]] = []
    if not no_jobs:
        children.append(subprocess.Popen([sys.executable, "-m", "inspecta.cli", "worker"], env=env, cwd=ROOT))
    web = subprocess.Popen(
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
    children.append(web)
    click.echo(f"Inspecta serving at http://{host}:{port}/  (Ctrl-C to stop)")

    def stop(signum: int, frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = web.wait()
    stop(signal.SIGTERM, None)
    for child in children:
        child.wait()
    sys.exit(code)


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, help="Run a Django management command."
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspecta.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["inspecta manage", *args])


if __name__ == "__main__":
    main()
