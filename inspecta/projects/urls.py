from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list_view, name="project_list"),
    path("new/", views.project_create_view, name="project_create"),
    path("<int:pk>/", views.project_detail_view, name="project_detail"),
    path("<int:pk>/people/", views.project_person_name_view, name="project_person_name"),
    path("<int:pk>/people/<int:person_pk>/end/", views.project_person_end_view, name="project_person_end"),
    path("<int:pk>/contracts/new/", views.contract_upload_view, name="contract_upload"),
    path("<int:pk>/plans/new/", views.plan_file_view, name="plan_file"),
    path("plans/", views.plan_list_view, name="plan_list"),
    path("plans/calendar/", views.plan_calendar_view, name="plan_calendar"),
    path("plans/<int:pk>/", views.plan_detail_view, name="plan_detail"),
    path("plans/<int:pk>/history/", views.plan_history_view, name="plan_history"),
    path("plans/<int:pk>/change/", views.plan_change_view, name="plan_change"),
    path("plans/<int:pk>/cancel/", views.plan_cancel_view, name="plan_cancel"),
]
