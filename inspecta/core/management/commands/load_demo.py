from typing import Any

from django.core.management.base import BaseCommand

from inspecta.core.demo import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load demo organisations and accounts (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        added, logins = demo_load()
        from inspecta.registry.demo import registry_demo_load

        agencies_added, agency_logins = registry_demo_load()
        added += agencies_added
        logins += agency_logins
        from inspecta.reports.demo import reports_demo_load

        reports_added = reports_demo_load()
        added += sum(reports_added.values())
        self.stdout.write(f"demo records added: {added}")
        self.stdout.write("")
        self.stdout.write("演示账号 / demo logins (password: %s)" % DEMO_PASSWORD)
        for login in logins:
            second = "  [2FA: inspecta otp-code %s]" % login.username if login.second_factor else ""
            self.stdout.write(f"  {login.username:<14} {login.role:<10} {login.organisation}{second}")
