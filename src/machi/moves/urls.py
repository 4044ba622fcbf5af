from django.urls import path

from machi.moves import views

app_name = "moves"

urlpatterns = [
    path("<lg:lg_code>/counter/moves/", views.reservations, name="reservations"),
    path(
        "<lg:lg_code>/counter/moves/<str:reservation_id>/",
        views.reservation,
        name="reservation",
    ),
    path(
        "<lg:lg_code>/counter/moves/<str:reservation_id>/intake/",
        views.reservation_intake,
        name="reservation_intake",
    ),
    path(
        "<lg:lg_code>/residents/<str:atena_number>/moves/<str:move_id>/retry/",
        views.outgoing_retry,
        name="outgoing_retry",
    ),
]
