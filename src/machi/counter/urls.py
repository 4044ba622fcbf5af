from django.urls import path

from machi.counter.views import documents, intake, status, tasks, tickets
from machi.counter.views import preapplications as preapply

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
    # the life-event intake (総合窓口): one page, steps swapped by htmx
    path("<lg:lg_code>/counter/intake/", intake.intake, name="intake"),
    path("<lg:lg_code>/counter/intake/step/<slug:step>/", intake.intake_step, name="intake_step"),
    path("<lg:lg_code>/counter/intake/search/", intake.intake_search, name="intake_search"),
    path(
        "<lg:lg_code>/counter/intake/household/", intake.intake_household, name="intake_household"
    ),
    path("<lg:lg_code>/counter/intake/postal/", intake.intake_postal, name="intake_postal"),
    path("<lg:lg_code>/counter/intake/confirm/", intake.intake_confirm, name="intake_confirm"),
    path("<lg:lg_code>/counter/intake/cancel/", intake.intake_cancel, name="intake_cancel"),
    path("<lg:lg_code>/counter/intake/done/<str:code>/", intake.intake_done, name="intake_done"),
    path("<lg:lg_code>/counter/tasks/", tasks.tasks, name="tasks"),
    path(
        "<lg:lg_code>/counter/tasks/<int:pk>/<slug:action>/",
        tasks.task_action,
        name="task_action",
    ),
    # public: the resident's status page (the QR code on the visit slip)
    path("<lg:lg_code>/visits/<str:code>/", status.visit_status, name="visit_status"),
    # staff: the visit's pre-filled forms (書かない窓口) as PDF
    path("<lg:lg_code>/visits/<str:code>/documents/", documents.documents, name="documents"),
    path(
        "<lg:lg_code>/visits/<str:code>/documents/all.pdf",
        documents.documents_pdf,
        name="documents_pdf",
    ),
    path(
        "<lg:lg_code>/visits/<str:code>/documents/<slug:name>.pdf",
        documents.document_pdf,
        name="document_pdf",
    ),
    # public: residents' pre-application (事前申請) and its saved result under a code
    path("<lg:lg_code>/preapply/", preapply.preapply, name="preapply"),
    path("<lg:lg_code>/preapply/<str:code>/", preapply.preapply_show, name="preapply_show"),
]
