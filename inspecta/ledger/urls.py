from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("", views.log_home_view, name="home"),
    path("entries/<int:index>/", views.entry_view, name="entry"),
    path("records/<str:record_type>/<str:record_id>/", views.record_view, name="record"),
]
