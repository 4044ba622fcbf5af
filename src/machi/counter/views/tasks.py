"""Department work queues (担当課の手続き): each department's open and taken tasks,
oldest first, and the actions 担当する / 完了 / 不要.

Department staff and supervisors see the queues of the departments they belong to
(with either role). The services check the department again: a POST on another
department's task is refused (403) whatever the page showed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.counter import selectors, services
from machi.counter.documents.forms import filer_text
from machi.counter.services.visits import NOT_NEEDED_REASON_MAX
from machi.procedures.engine.catalogue import EVENT_LABELS
from machi.requests.selectors import staff_request_inbox
from machi.web.decorators import roles_required

TASK_ROLES = (Role.DEPARTMENT_STAFF, Role.SUPERVISOR)
TASKS_SHOWN = 100  # the oldest tasks; the page says how many more wait

ACTION_DONE = {
    "take": gettext_lazy("「%(title)s」を担当しました。"),
    "complete": gettext_lazy("「%(title)s」を完了にしました。"),
    "not-needed": gettext_lazy("「%(title)s」を不要にしました。"),
}


def _terminal(request: HttpRequest) -> Terminal:
    return Terminal.from_request(request)


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _tasks_url(lg_code: str, department: str) -> str:
    return f"{reverse('counter:tasks', args=[lg_code])}?department={department}"


def _panel_context(
    request: HttpRequest, department: selectors.WorkDepartment | None, **extra: Any
) -> dict[str, Any]:
    """The queue of ``department``: a count, the oldest tasks, their residents' names (one
    query, audited) — a fixed number of queries whatever the length of the queue."""
    if department is None:
        return {"department": None, "rows": [], "total": 0, **extra}
    queryset = selectors.department_tasks(department=department.code)
    tasks = list(queryset[:TASKS_SHOWN])
    total = len(tasks) if len(tasks) < TASKS_SHOWN else queryset.count()
    names = selectors.task_resident_names(
        atena_numbers=[task.person_atena for task in tasks] + [task.filer_atena for task in tasks],
        actor=request.user,
        terminal=_terminal(request),
        function="counter:tasks",
    )
    today = timezone.localdate()
    rows = [
        {
            "task": task,
            "name": names.get(task.person_atena, ""),
            # who files when not the person (出産育児一時金 → 世帯主, 葬祭費 → the funeral host)
            "filer": filer_text(
                task.procedure_code, task.filer_label, names.get(task.filer_atena, "")
            ),
            "event": EVENT_LABELS.get(task.visit.event_type, task.visit.event_type),
            "overdue": task.due is not None and task.due < today,
            "due_today": task.due == today,
            "mine": task.taken_by_id == request.user.pk,
        }
        for task in tasks
    ]
    return {
        "department": department,
        "rows": rows,
        "total": total,
        "more": total - len(rows),
        "reason_max": NOT_NEEDED_REASON_MAX,
        # one inbox per department: its residents' requests beside its procedures
        "inbox": staff_request_inbox(staff=request.user, department=department.code),
        **extra,
    }


def _chosen(
    departments: list[selectors.WorkDepartment], code: str | None
) -> selectors.WorkDepartment | None:
    return next((d for d in departments if d.code == code), departments[0] if departments else None)


@require_GET
@never_cache
@roles_required(*TASK_ROLES)
def tasks(request: HttpRequest, lg_code: str) -> HttpResponse:
    departments = selectors.staff_work_departments(staff=request.user)
    department = _chosen(departments, request.GET.get("department"))
    context = _panel_context(request, department)
    if _partial(request):
        return render(request, "counter/tasks_panel.html", context)
    context["departments"] = departments
    return render(request, "counter/tasks.html", context)


@require_POST
@roles_required(*TASK_ROLES)
def task_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    task = selectors.task_get(pk=pk)
    if task is None or action not in ACTION_DONE:
        raise Http404(_("手続きが見つかりません。"))
    terminal = _terminal(request)
    notice = error = ""
    try:
        if action == "take":
            task = services.task_take(task=task, actor=request.user, terminal=terminal)
        elif action == "complete":
            task = services.task_complete(task=task, actor=request.user, terminal=terminal)
        else:
            task = services.task_mark_not_needed(
                task=task,
                reason=request.POST.get("reason", ""),
                actor=request.user,
                terminal=terminal,
            )
        notice = ACTION_DONE[action] % {"title": task.title}
    except services.TaskError as refusal:
        error = " ".join(refusal.messages)
    # PermissionDenied (another department's task) propagates: 403, nothing written.
    if _partial(request):
        departments = selectors.staff_work_departments(staff=request.user)
        department = _chosen(departments, task.department)
        return render(
            request,
            "counter/tasks_panel.html",
            _panel_context(request, department, notice=notice, error=error, swapped=True),
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(_tasks_url(lg_code, task.department))
