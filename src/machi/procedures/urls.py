from django.urls import path

from machi.procedures import views

app_name = "procedures"

urlpatterns = [
    path("<lg:lg_code>/procedures/catalogue/", views.catalogue, name="catalogue"),
    path(
        "<lg:lg_code>/procedures/catalogue/download/",
        views.catalogue_download,
        name="catalogue_download",
    ),
]
