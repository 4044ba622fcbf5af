"""Reads on visits and department tasks: the work queues, the resident's public status
page and the supervisors' metrics. Each is a fixed number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from machi.accounts.roles import Role
from machi.audit.services import Terminal, audit_append
from machi.counter.models import Task, TaskStatus, Visit
from machi.counter.models.visits import TASK_PENDING
from machi.counter.selectors.metrics import MetricSection
from machi.counter.services.visits import public_code_normalise

# The roles whose departments' tasks appear on the work-queue page.
QUEUE_ROLES = (Role.DEPARTMENT_STAFF, Role.SUPERVISOR)

# What the resident reads on the public status page.
PUBLIC_STATUS_LABELS = {
    TaskStatus.OPEN: gettext_lazy("受付済"),
    TaskStatus.TAKEN: gettext_lazy("対応中"),
    TaskStatus.DONE: gettext_lazy("完了"),
    TaskStatus.NOT_NEEDED: gettext_lazy("不要"),
}


# --- work queues ------------------------------------------------------------------------------


def department_tasks(
    *, department: str, statuses: Iterable[str] = (TaskStatus.OPEN, TaskStatus.TAKEN)
) -> QuerySet[Task]:
    """A department's tasks in ``statuses``, oldest first, with their visit (one query)."""
    return (
        Task.objects.filter(department=department, status__in=list(statuses))
        .select_related("visit")
        .order_by("created_at", "id")
    )


def task_get(*, pk: int) -> Task | None:
    return Task.objects.filter(pk=pk).select_related("visit").first()


@dataclass(frozen=True)
class WorkDepartment:
    code: str
    name: str


def staff_work_departments(*, staff: Any) -> list[WorkDepartment]:
    """The departments whose queue ``staff`` sees: where they are department staff or
    supervisor (one control-database query), in the municipality's department order."""
    from machi.accounts.models import Department

    if not getattr(staff, "is_authenticated", False) or staff.municipality_id is None:
        return []
    rows = (
        Department.objects.filter(
            municipality_id=staff.municipality_id,
            members__staff_id=staff.pk,
            members__role__in=QUEUE_ROLES,
        )
        .distinct()
        .order_by("id")
        .values_list("code", "name")
    )
    return [WorkDepartment(code, name) for code, name in rows]


def task_resident_names(
    *,
    atena_numbers: Iterable[str],
    actor: Any,
    terminal: Terminal | None = None,
    function: str = "",
) -> dict[str, str]:
    """Names of the residents a work queue shows, in one query; the listing is audited
    (which atena numbers were shown, not the names)."""
    from machi.registry.models import Resident

    wanted = sorted({a for a in atena_numbers if a})
    if not wanted:
        return {}
    names = dict(
        Resident.objects.filter(atena_number__in=wanted).values_list("atena_number", "name")
    )
    audit_append(
        action="resident.listed",
        actor=actor,
        object_type="resident",
        function=function,
        terminal=terminal,
        detail={"atena_numbers": sorted(names)},
    )
    return names


# --- the resident's public status page ---------------------------------------------------------


def visit_by_public_code(*, code: str) -> Visit | None:
    """The visit with ``code`` (case, spaces and hyphens ignored); one query, or none
    when ``code`` cannot be a code."""
    normalised = public_code_normalise(code)
    if normalised is None:
        return None
    return Visit.objects.filter(public_code=normalised).first()


def visit_status(*, visit: Visit) -> list[dict[str, Any]]:
    """What the holder of the visit's code may see, one query: per procedure its title,
    department name, status and deadline. No names, atena numbers, addresses or
    reasons; persons are numbered in the order they first appear (対象者1, 2, …)."""
    rows = (
        Task.objects.filter(visit_id=visit.pk)
        .order_by("id")
        .values_list(
            "procedure_code",
            "title",
            "department",
            "department_name",
            "person_label",
            "status",
            "due",
        )
    )
    persons: dict[str, int] = {}
    result = []
    for code, title, department, department_name, person, status, due in rows:
        if person and person not in persons:
            persons[person] = len(persons) + 1
        result.append(
            {
                "procedure_code": code,
                "title": title,
                "department": department_name or department,
                "department_code": department,
                "person": persons.get(person) if person else None,
                "status": status,
                "status_label": str(PUBLIC_STATUS_LABELS.get(status, status)),
                "due": due,
            }
        )
    return result


# --- metrics ------------------------------------------------------------------------------------


def _day_range(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


@dataclass(frozen=True)
class DepartmentTaskRow:
    department: str
    name: str
    open: int
    taken: int
    overdue: int  # open or taken with a deadline before the day
    done: int  # ended on the day
    not_needed: int  # ended on the day
    oldest: datetime.datetime | None  # creation of the oldest open or taken task

    @property
    def pending(self) -> int:
        return self.open + self.taken


@dataclass(frozen=True)
class DepartmentTaskMetrics:
    day: datetime.date
    rows: list[DepartmentTaskRow]

    @property
    def pending(self) -> int:
        return sum(row.pending for row in self.rows)


def department_task_metrics(*, day: datetime.date) -> DepartmentTaskMetrics:
    """Per department: tasks open and taken now, overdue on ``day``, ended on ``day``
    (one query). Departments with nothing pending and nothing ended that day are left out."""
    start, end = _day_range(day)
    pending = Q(status__in=TASK_PENDING)
    ended_today = Q(completed_at__gte=start, completed_at__lt=end)
    rows = (
        Task.objects.filter(pending | ended_today)
        .values("department")
        .annotate(
            name=Max("department_name"),
            open=Count("id", filter=Q(status=TaskStatus.OPEN)),
            taken=Count("id", filter=Q(status=TaskStatus.TAKEN)),
            overdue=Count("id", filter=pending & Q(due__lt=day)),
            done=Count("id", filter=ended_today & Q(status=TaskStatus.DONE)),
            not_needed=Count("id", filter=ended_today & Q(status=TaskStatus.NOT_NEEDED)),
            oldest=Min("created_at", filter=pending),
        )
        .order_by("department")
    )
    result = [
        DepartmentTaskRow(
            department=row["department"],
            name=row["name"] or row["department"],
            open=row["open"],
            taken=row["taken"],
            overdue=row["overdue"],
            done=row["done"],
            not_needed=row["not_needed"],
            oldest=row["oldest"],
        )
        for row in rows
    ]
    result.sort(key=lambda r: (-r.pending, r.department))
    return DepartmentTaskMetrics(day=day, rows=result)


def department_task_metric_section(*, day: datetime.date) -> MetricSection:
    return MetricSection(
        key="tasks",
        title=_("担当課の手続き"),
        template="counter/metrics/_tasks.html",
        data=department_task_metrics(day=day),
    )


@dataclass(frozen=True)
class VisitCounterMetrics:
    """Visits opened on ``day`` by how many departments their tasks span.

    "Had to go to more than one counter" = the visit's tasks belong to two or more
    distinct departments (each department has its own counter; the intake counter
    itself is not counted separately). Visits without tasks count as zero.
    """

    day: datetime.date
    visits: int
    by_departments: dict[int, int]  # number of distinct departments → visits

    @property
    def multi_counter(self) -> int:
        return sum(n for departments, n in self.by_departments.items() if departments > 1)

    @property
    def multi_counter_share(self) -> float | None:
        return self.multi_counter / self.visits if self.visits else None

    def distribution(self) -> list[tuple[str, int]]:
        """Rows 0, 1, 2, 3 and "4 or more" departments."""
        rows = [(str(n), self.by_departments.get(n, 0)) for n in range(4)]
        more = sum(v for k, v in self.by_departments.items() if k >= 4)
        rows.append((_("4以上"), more))
        return rows


def visit_counter_metrics(*, day: datetime.date) -> VisitCounterMetrics:
    """One query: the distinct departments of each visit opened on ``day``."""
    start, end = _day_range(day)
    spans = (
        Visit.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(n=Count("tasks__department", distinct=True))
        .values_list("n", flat=True)
    )
    by_departments: dict[int, int] = {}
    for n in spans:
        by_departments[n] = by_departments.get(n, 0) + 1
    return VisitCounterMetrics(
        day=day, visits=sum(by_departments.values()), by_departments=by_departments
    )


def visit_counter_metric_section(*, day: datetime.date) -> MetricSection:
    return MetricSection(
        key="visits",
        title=_("複数の窓口に回った来庁"),
        template="counter/metrics/_visits.html",
        data=visit_counter_metrics(day=day),
    )
