from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("warnings/", views.warning_list_view, name="warning_list"),
    path("warnings/<int:pk>/", views.warning_detail_view, name="warning_detail"),
    path("warnings/<int:pk>/<slug:step>/", views.warning_step_view, name="warning_step"),
    path("rules/", views.rule_list_view, name="rule_list"),
    path("nonconformance/", views.nonconformance_list_view, name="nonconformance_list"),
    path("nonconformance/summary/", views.nonconformance_summary_view, name="nonconformance_summary"),
    path("nonconformance/<int:pk>/", views.nonconformance_detail_view, name="nonconformance_detail"),
    path("nonconformance/<int:pk>/closures/", views.closure_submit_view, name="closure_submit"),
    path("nonconformance/<int:pk>/closures/<slug:decision>/", views.closure_decide_view, name="closure_decide"),
]
