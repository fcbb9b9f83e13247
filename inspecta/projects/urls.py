from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list_view, name="project_list"),
    path("new/", views.project_create_view, name="project_create"),
    path("<int:pk>/", views.project_detail_view, name="project_detail"),
    path("<int:pk>/contracts/new/", views.contract_upload_view, name="contract_upload"),
]
