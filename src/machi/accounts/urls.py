from django.urls import path

from machi.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/otp/", views.otp_verify, name="otp_verify"),
    path("login/otp/enrol/", views.otp_enrol, name="otp_enrol"),
    path("logout/", views.logout_view, name="logout"),
    path("account/language/", views.language_view, name="language"),
    path("account/password/<str:token>/", views.password_set, name="password_set"),
    path("<lg:lg_code>/staff/", views.staff_list, name="staff_list"),
    path(
        "<lg:lg_code>/staff/<int:staff_id>/reset-password/",
        views.staff_reset_password,
        name="staff_reset_password",
    ),
    path(
        "<lg:lg_code>/staff/<int:staff_id>/mfa-reset/",
        views.staff_mfa_reset_request,
        name="staff_mfa_reset_request",
    ),
    path(
        "<lg:lg_code>/staff/mfa-reset/<int:request_id>/approve/",
        views.staff_mfa_reset_approve,
        name="staff_mfa_reset_approve",
    ),
]
