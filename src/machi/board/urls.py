from django.urls import path

from machi.board import views

app_name = "board"

PUBLIC = "<lg:lg_code>/board/"
STAFF = "<lg:lg_code>/board/staff/"

urlpatterns = [
    path(PUBLIC, views.index, name="index"),
    path(PUBLIC + "c/<slug:code>/", views.category, name="category"),
    path(PUBLIC + "new/", views.thread_new, name="thread_new"),
    path(PUBLIC + "t/<int:pk>/", views.thread, name="thread"),
    path(PUBLIC + "t/<int:pk>/<slug:action>/", views.thread_action, name="thread_action"),
    path(PUBLIC + "p/<int:pk>/<slug:action>/", views.post_action, name="post_action"),
    path(PUBLIC + "register/", views.register, name="register"),
    path(PUBLIC + "confirm/<str:token>/", views.confirm, name="confirm"),
    path(PUBLIC + "signin/", views.signin, name="signin"),
    path(PUBLIC + "signout/", views.signout, name="signout"),
    path(PUBLIC + "account/", views.account, name="account"),
    path(STAFF, views.staff_queue, name="staff_queue"),
    path(STAFF + "settings/", views.staff_settings, name="staff_settings"),
    path(STAFF + "categories/", views.staff_category_save, name="staff_category_save"),
    path(STAFF + "words/", views.staff_word_add, name="staff_word_add"),
    path(STAFF + "words/<int:pk>/delete/", views.staff_word_delete, name="staff_word_delete"),
    path(STAFF + "new/", views.staff_thread_new, name="staff_thread_new"),
    path(STAFF + "t/<int:pk>/", views.staff_thread, name="staff_thread"),
    path(
        STAFF + "t/<int:pk>/<slug:action>/", views.staff_thread_action, name="staff_thread_action"
    ),
    path(STAFF + "p/<int:pk>/<slug:action>/", views.staff_post_action, name="staff_post_action"),
    path(STAFF + "u/<int:pk>/", views.staff_user, name="staff_user"),
    path(STAFF + "u/<int:pk>/<slug:action>/", views.staff_user_action, name="staff_user_action"),
    path(
        STAFF + "appeals/<int:pk>/<slug:action>/",
        views.staff_appeal_action,
        name="staff_appeal_action",
    ),
    path(STAFF + "residence-code/", views.staff_residence_code, name="staff_residence_code"),
]
