"""Fill the project's audit columns on every historical row."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from .audit import current_client, current_request_id


@receiver(pre_create_historical_record)
def _stamp_history(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    history_instance.request_id = current_request_id.get()
    request = getattr(HistoricalRecords.context, "request", None)
    if request is not None and hasattr(history_instance, "remote_addr"):
        history_instance.remote_addr = request.META.get("REMOTE_ADDR") or None
    if hasattr(history_instance, "acting_client_id"):
        client = getattr(instance, "_history_client", None) or current_client.get()
        history_instance.acting_client_id = client.pk if client is not None else None
