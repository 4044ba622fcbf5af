from django.urls import path

from machi.counter.views import tickets

app_name = "counter"

urlpatterns = [
    path("<lg:lg_code>/counter/reception/", tickets.reception, name="reception"),
    path("<lg:lg_code>/counter/call/", tickets.console, name="call"),
    path("<lg:lg_code>/counter/call/queue/", tickets.console_queue, name="queue"),
    path("<lg:lg_code>/counter/call/window/", tickets.console_window, name="window"),
    path("<lg:lg_code>/counter/call/next/", tickets.call_next, name="call_next"),
    path(
        "<lg:lg_code>/counter/tickets/<int:pk>/<slug:action>/",
        tickets.ticket_action,
        name="ticket_action",
    ),
    path("<lg:lg_code>/counter/board/", tickets.board, name="board"),
    path("<lg:lg_code>/counter/board/calls/", tickets.board_calls, name="board_calls"),
    path("<lg:lg_code>/counter/metrics/", tickets.metrics, name="metrics"),
]
