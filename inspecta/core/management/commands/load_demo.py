from typing import Any

from django.core.management.base import BaseCommand

from inspecta.core.appconfig import demo_loaders
from inspecta.core.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load demo data of every app (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        added, logins = 0, []
        for _label, loader in demo_loaders():  # each app's AppConfig.demo_loader, dependencies first
            app_added, app_logins = loader()
            added += app_added
            logins += app_logins
        self.stdout.write(f"demo records added: {added}")
        self.stdout.write("")
        self.stdout.write("演示账号 / demo logins (password: %s)" % DEMO_PASSWORD)
        for login in logins:
            second = "  [2FA: inspecta otp-code %s]" % login.username if login.second_factor else ""
            self.stdout.write(f"  {login.username:<14} {login.role:<10} {login.organisation}{second}")
