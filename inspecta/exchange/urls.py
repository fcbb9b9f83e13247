from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.client_list_view, name="client_list"),
    path("applications/", views.application_list_view, name="application_list"),
    path("applications/new/", views.application_create_view, name="application_create"),
    path("applications/<int:pk>/", views.application_detail_view, name="application_detail"),
    path("applications/<int:pk>/<slug:decision>/", views.application_decide_view, name="application_decide"),
    path("clients/<int:pk>/", views.client_detail_view, name="client_detail"),
    path("clients/<int:pk>/history/", views.client_history_view, name="client_history"),
    path("clients/<int:pk>/<slug:action>/", views.client_action_view, name="client_action"),
    path("monitoring/", views.monitoring_view, name="monitoring"),
    path("monitoring/data/", views.monitoring_data_view, name="monitoring_data"),
]
