"""Public verification pages (no login; CONTRACT §6)."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from . import views

app_name = "reports_public"

urlpatterns = [
    path("", views.verify_form_view, name="verify_form"),
    # The page's PDF check is an anonymous, side-effect-free comparison: no CSRF token.
    path("<str:code>", csrf_exempt(views.verify_view), name="verify"),
]
