"""tus endpoint under ``/api/v1/uploads/`` (CONTRACT §4)."""

from django.urls import path

from . import uploads

app_name = "uploads"

urlpatterns = [
    path("", uploads.collection_view, name="collection"),
    path("<uuid:upload_id>", uploads.resource_view, name="resource"),
    path("<uuid:upload_id>/", uploads.resource_view),
]
