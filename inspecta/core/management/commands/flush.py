"""Django's ``flush`` with the audit immutability triggers lifted while it empties the
database, and put back afterwards (``inspecta.core.immutability``): the one path, besides
``migrate``, that may delete audit rows. Used between transactional tests."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand

from inspecta.core import immutability


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        with immutability.suspended("flush", using=options["database"]):
            super().handle(**options)
