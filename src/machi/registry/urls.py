from django.urls import path

from machi.registry import views

app_name = "registry"

urlpatterns = [
    path("<lg:lg_code>/residents/", views.search, name="search"),
    path("<lg:lg_code>/residents/<str:atena_number>/", views.resident_detail, name="resident"),
    path(
        "<lg:lg_code>/residents/<str:atena_number>/my-number/",
        views.my_number_reveal,
        name="my_number",
    ),
    path(
        "<lg:lg_code>/residents/<str:atena_number>/move-within/",
        views.move_within,
        name="move_within",
    ),
    path("<lg:lg_code>/residents/<str:atena_number>/move-out/", views.move_out, name="move_out"),
    path("<lg:lg_code>/residents/<str:atena_number>/death/", views.death, name="death"),
    path(
        "<lg:lg_code>/residents/<str:atena_number>/name-change/",
        views.name_change,
        name="name_change",
    ),
    path(
        "<lg:lg_code>/households/<str:household_number>/",
        views.household_detail,
        name="household",
    ),
]
