from django.urls import path

from . import views

app_name = "testing"

urlpatterns = [
    path("", views.record_list_view, name="record_list"),
    path("export.xlsx", views.record_export_view, name="record_export"),
    path("stats/", views.record_stats_view, name="record_stats"),
    path("<int:pk>/", views.record_detail_view, name="record_detail"),
]
