from django.urls import path

from machi.publiccomment import views

app_name = "publiccomment"

PUBLIC = "<lg:lg_code>/public-comment/"
STAFF = "<lg:lg_code>/public-comment/staff/"

urlpatterns = [
    path(PUBLIC, views.public_list, name="public_list"),
    path(PUBLIC + "<int:pk>/", views.public_detail, name="public_detail"),
    path(PUBLIC + "<int:pk>/done/", views.public_done, name="public_done"),
    path(
        PUBLIC + "<int:pk>/documents/<int:document_pk>/",
        views.public_document,
        name="public_document",
    ),
    path(STAFF, views.staff_list, name="staff_list"),
    path(STAFF + "new/", views.staff_create, name="staff_create"),
    path(STAFF + "<int:pk>/", views.staff_detail, name="staff_detail"),
    path(
        STAFF + "<int:pk>/documents/<int:document_pk>/",
        views.staff_document,
        name="staff_document",
    ),
    path(
        STAFF + "<int:pk>/comments/<int:comment_pk>/attachment/",
        views.staff_attachment,
        name="staff_attachment",
    ),
    path(STAFF + "<int:pk>/<slug:action>/", views.staff_action, name="staff_action"),
]
