from django.urls import path

from machi.counter.views import preapplications as preapply
from machi.counter.views import status, tasks, tickets

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
    path("<lg:lg_code>/counter/tasks/", tasks.tasks, name="tasks"),
    path(
        "<lg:lg_code>/counter/tasks/<int:pk>/<slug:action>/",
        tasks.task_action,
        name="task_action",
    ),
    # public: the resident's status page (the QR code on the visit slip)
    path("<lg:lg_code>/visits/<str:code>/", status.visit_status, name="visit_status"),
    # public: residents' pre-application (事前申請) and its saved result under a code
    path("<lg:lg_code>/preapply/", preapply.preapply, name="preapply"),
    path("<lg:lg_code>/preapply/<str:code>/", preapply.preapply_show, name="preapply_show"),
]
