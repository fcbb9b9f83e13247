from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("<int:pk>/", views.notification_detail_view, name="detail"),
    path("read-all/", views.read_all_view, name="read_all"),
    path("preferences/", views.preferences_view, name="preferences"),
    path("deliveries/", views.delivery_list_view, name="delivery_list"),
]
