from django.urls import path

from machi.apiclients import views

app_name = "apiclients"

urlpatterns = [
    path("<lg:lg_code>/admin/api-clients/", views.client_list, name="list"),
    path(
        "<lg:lg_code>/admin/api-clients/<int:pk>/revoke/",
        views.client_revoke,
        name="revoke",
    ),
]
