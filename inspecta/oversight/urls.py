from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("warnings/", views.warning_list_view, name="warning_list"),
    path("warnings/<int:pk>/", views.warning_detail_view, name="warning_detail"),
    path("warnings/<int:pk>/<slug:step>/", views.warning_step_view, name="warning_step"),
    path("rules/", views.rule_list_view, name="rule_list"),
]
