from django.contrib.auth.decorators import login_required
from django.urls import path

from . import views

app_name = "sampling"

urlpatterns = [
    path("", views.sample_list_view, name="sample_list"),
    path("new/", views.sample_record_view, name="sample_record"),
    path("handover/", views.handover_view, name="handover"),
    path("receive/", views.receive_view, name="receive"),
    path("<int:pk>/", views.sample_detail_view, name="sample_detail"),
    path("<int:pk>/tags.pdf", login_required(views.sample_tags_pdf_view), name="sample_tags_pdf"),
    path("<int:pk>/seal.pdf", login_required(views.sample_seal_pdf_view), name="sample_seal_pdf"),
    path("batches/", views.batch_list_view, name="batch_list"),
    path("batches/new/", views.batch_record_view, name="batch_record"),
    path("batches/<int:pk>/", views.batch_detail_view, name="batch_detail"),
    path("<int:pk>/custody/<slug:kind>/", views.custody_record_view, name="custody_record"),
    path("<int:pk>/witness.pdf", login_required(views.sample_witness_record_view), name="sample_witness_pdf"),
    path("commissions/", views.commission_list_view, name="commission_list"),
    path("commissions/new/", views.commission_fill_view, name="commission_fill"),
    path("commissions/<int:pk>/", views.commission_detail_view, name="commission_detail"),
    path("commissions/<int:pk>/form.pdf", login_required(views.commission_form_pdf_view), name="commission_pdf"),
]
