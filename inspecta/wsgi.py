"""WSGI entry point (gunicorn: ``inspecta.wsgi:application``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspecta.settings.base")
application = get_wsgi_application()


def _freeze_startup_objects() -> None:
    """Load the URL configuration now and move everything loaded at start-up out of the
    garbage collector's view: the ~200,000 long-lived objects of the apps, URL conf and
    API schema otherwise make every full collection take 100-250 ms in the middle of a
    request (measured on report batches); frozen, it takes a few milliseconds."""

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every urls module and the API
    gc.collect()
    gc.freeze()


_freeze_startup_objects()
