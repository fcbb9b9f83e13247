from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("files/<uuid:pk>/", views.file_view, name="file"),
    path("regions/", views.region_list_view, name="region_list"),
    path("catalog/", views.catalog_view, name="catalog"),
    path("rules/", views.region_rules_view, name="region_rules"),
    path("rules/<int:pk>/delete/", views.region_rule_delete_view, name="region_rule_delete"),
    path("reference/<slug:kind>/<str:pk>/edit/", views.reference_edit_view, name="reference_edit"),
    path("reference/<slug:kind>/<str:pk>/history/", views.reference_history_view, name="reference_history"),
]
