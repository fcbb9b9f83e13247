from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.agency_list_view, name="agency_list"),
    path("findings/", views.findings_view, name="findings"),
    path("import/<slug:kind>/template.xlsx", views.import_template_view, name="import_template"),
    path("changes/<int:change>/<slug:action>/", views.change_review_view, name="change_review"),
    path("<int:pk>/", views.agency_detail_view, name="agency_detail"),
    path("<int:pk>/edit/", views.agency_edit_view, name="agency_edit"),
    path("<int:pk>/history/", views.history_view, name="history"),
    path("<int:pk>/review/<slug:action>/", views.review_view, name="review"),
    path("<int:pk>/sites/<int:site>/capabilities/", views.capability_view, name="capabilities"),
    path("<int:pk>/import/<slug:kind>/", views.import_view, name="import"),
    path("<int:pk>/imports/<int:job>/", views.import_job_view, name="import_job"),
    path("<int:pk>/export/<slug:kind>.xlsx", views.export_view, name="export"),
    path("<int:pk>/<slug:kind>/", views.section_view, name="section"),
    path("<int:pk>/<slug:kind>/new/", views.record_edit_view, name="record_new"),
    path("<int:pk>/<slug:kind>/<int:record>/edit/", views.record_edit_view, name="record_edit"),
    path("<int:pk>/<slug:kind>/<int:record>/delete/", views.record_delete_view, name="record_delete"),
    path("<int:pk>/<slug:kind>/<int:record>/history/", views.record_history_view, name="record_history"),
]
