from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from inspecta.core import services


class Command(BaseCommand):
    help = "Load GB/T 2260 regions and the qualification catalog (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        regions = services.regions_load(progress=lambda rows: tqdm(rows, desc="regions", unit="row", disable=None))
        catalog = services.catalog_load()
        self.stdout.write(f"regions added: {regions}; catalog added: {catalog}")
