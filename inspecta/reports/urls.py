from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list_view, name="report_list"),
    path("export.xlsx", views.report_export_view, name="report_export"),
    path("new/", views.report_submit_view, name="report_submit"),
    path("new/parameters", views.report_submit_parameters_view, name="report_submit_parameters"),
    path("drafts/", views.draft_list_view, name="draft_list"),
    path("drafts/<int:pk>/", views.draft_detail_view, name="draft_detail"),
    path("drafts/<int:pk>/approve/", views.draft_approve_view, name="draft_approve"),
    path("drafts/<int:pk>/return/", views.draft_return_view, name="draft_return"),
    path("nonconformance/", views.nonconformance_list_view, name="nonconformance_list"),
    path("check-rules/", views.check_rules_view, name="check_rules"),
    path("<int:pk>/", views.report_detail_view, name="report_detail"),
    path("<int:pk>/qr.<str:fmt>", views.report_qr_view, name="report_qr"),
    path("<int:pk>/v<int:number>.pdf", views.report_pdf_view, name="report_pdf"),
    path("<int:pk>/stamped.pdf", views.report_stamped_view, name="report_stamped"),
    path("<int:pk>/amend/", views.amendment_apply_view, name="amendment_apply"),
    path("<int:pk>/revoke/", views.report_revoke_view, name="report_revoke"),
    path("<int:pk>/printed/", views.report_printed_view, name="report_printed"),
    path("amendments/<int:pk>/<str:decision>/", views.amendment_decide_view, name="amendment_decide"),
]
