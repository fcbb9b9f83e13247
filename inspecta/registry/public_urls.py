"""Public pages (no login): registration and the list of approved agencies (CONTRACT §6a)."""

from django.urls import path

from . import views

app_name = "registry_public"

urlpatterns = [
    path("register/", views.register_view, name="register"),
    path("agencies/", views.public_list_view, name="agency_list"),
    path("agencies/<int:pk>/", views.public_detail_view, name="agency_detail"),
]
