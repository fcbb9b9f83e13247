from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/", views.otp_verify_view, name="otp_verify"),
    path("otp/setup/", views.otp_setup_view, name="otp_setup"),
    path("otp/recovery-codes/", views.recovery_codes_view, name="recovery_codes"),
    path("password/", views.password_change_view, name="password_change"),
    path("profile/", views.profile_view, name="profile"),
    path("passkeys/", views.passkey_register_view, name="passkey_register"),
    path("passkeys/options/", views.passkey_options_view, name="passkey_options"),
    path("passkeys/<int:pk>/remove/", views.passkey_remove_view, name="passkey_remove"),
    path("users/", views.user_list_view, name="user_list"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/<int:pk>/", views.user_detail_view, name="user_detail"),
    path("users/<int:pk>/history/", views.user_history_view, name="user_history"),
    path("users/<int:pk>/<slug:action>/", views.user_action_view, name="user_action"),
    path("register/", views.person_register_view, name="person_register"),
    path("register/<str:token>/", views.registration_status_view, name="registration_status"),
    path("registrations/", views.registration_list_view, name="registration_list"),
    path("registrations/<int:pk>/", views.registration_detail_view, name="registration_detail"),
    path("registrations/<int:pk>/<slug:action>/", views.registration_decide_view, name="registration_decide"),
    path("organisations/", views.organisation_list_view, name="organisation_list"),
    path("organisations/new/", views.organisation_create_view, name="organisation_create"),
    path("organisations/<int:pk>/history/", views.organisation_history_view, name="organisation_history"),
]
