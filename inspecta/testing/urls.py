from django.urls import path

from . import views

app_name = "testing"

urlpatterns = [
    path("", views.record_list_view, name="record_list"),
    path("<int:pk>/", views.record_detail_view, name="record_detail"),
]
