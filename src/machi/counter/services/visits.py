"""Counter visits and department tasks: opening a visit, creating its tasks from the
navigator's output, and each department working them.

Every service is one transaction on the municipality's database (or joins the
caller's), is audited (object ``visit``: the public code; object ``task``: the task
id; never names) and writes its events to the outbox in the same transaction.

Life of a task::

    open ──take──▶ taken ──complete──▶ done
      │              │
      ├──complete────┼──────────────▶ done
      └──not needed──┴──────────────▶ not_needed (with a reason)

When the last open or taken task of a visit ends, the visit closes
(``jp.machi.visit.closed``, once). A visit whose navigator listed nothing is closed
when its (zero) tasks are created.

Who: only staff with a membership in the task's department take, complete or set
aside its tasks (department staff, supervisors, and counter clerks of that department,
e.g. 市民課 clerks finishing 市民課 procedures during intake); a municipality
administrator's membership does not count (no working role).
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Collection, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.accounts.roles import DEFAULT_DEPARTMENTS, Role
from machi.audit.services import AuditRecord, Terminal, audit_append
from machi.counter.models import Task, TaskStatus, Ticket, Visit, VisitStatus
from machi.counter.models.visits import TASK_PENDING
from machi.counter.services.tickets import ticket_finish_for_visit
from machi.linkage.services import NewEvent, outbox_append
from machi.registry.services import filing_batch
from machi.tenancy.context import current_lg_code, current_tenant_alias
from machi.tenancy.rows import rows_insert, rows_new

# Easy to read aloud and type: no 0/O, 1/I/L, 5/S, 8/B, 2/Z.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 10  # 25**10 ≈ 9.5e13 (46 bits); shown as XXXX-XXXX-XX
NOT_NEEDED_REASON_MAX = 500
EVENT_TASK_CREATED = "jp.machi.task.created"
EVENT_TASK_COMPLETED = "jp.machi.task.completed"
EVENT_VISIT_CLOSED = "jp.machi.visit.closed"
NOTIFIER_FIELDS = frozenset(
    f.name for f in Visit._meta.concrete_fields if f.name.startswith("notifier_")
)


class TaskError(ValidationError):
    """A task action was refused; the message says why (nothing was written)."""


# --- public codes ---------------------------------------------------------------------------


def public_code_generate() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def public_code_normalise(code: str) -> str | None:
    """``k7qm 2xpd 4r`` → ``K7QM-2XPD-4R``; None when it cannot be a code."""
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


# --- helpers ------------------------------------------------------------------------------


def _actor_fields(actor: Any | None) -> tuple[int | None, str]:
    return getattr(actor, "pk", None), getattr(actor, "username", "") or ""


def staff_may_work_department(staff: Any, department: str) -> bool:
    """Whether ``staff`` holds a working membership (any role but municipality
    administrator) in ``department`` of the municipality in force (one control query)."""
    from machi.accounts.models import Membership

    if staff is None or not getattr(staff, "is_authenticated", False):
        return False
    municipality = getattr(staff, "municipality", None)
    if municipality is None or municipality.lg_code != current_lg_code():
        return False
    return (
        Membership.objects.filter(
            staff_id=staff.pk,
            department__municipality_id=municipality.pk,
            department__code=department,
        )
        .exclude(role=Role.MUNICIPALITY_ADMIN)
        .exists()
    )


def _due(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as error:
        raise TaskError(_("期限の日付が正しくありません: %(value)s") % {"value": value}) from error


def _catalogue(catalogue: Any = None) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Forms by procedure code and department names from ``catalogue`` (by default the
    effective catalogue)."""
    from machi.procedures.selectors import catalogue_effective

    try:
        catalogue = catalogue or catalogue_effective().catalogue
    except Exception:  # the catalogue is a convenience here: tasks are created anyway
        return {}, dict(DEFAULT_DEPARTMENTS)
    forms = {entry.code: entry.forms for entry in catalogue.entries}
    return forms, {**DEFAULT_DEPARTMENTS, **catalogue.departments}


def _close_if_done(visit: Visit, *, actor: Any | None, terminal: Terminal | None) -> bool:
    """Close ``visit`` (locked by the caller) when no task is pending; True if closed now."""
    using = current_tenant_alias()
    if visit.status == VisitStatus.CLOSED:
        return False
    if Task.objects.using(using).filter(visit_id=visit.pk, status__in=TASK_PENDING).exists():
        return False
    now = timezone.now()
    visit.status = VisitStatus.CLOSED
    visit.closed_at = now
    visit.save(update_fields=["status", "closed_at"])
    counts = dict(
        Task.objects.using(using)
        .filter(visit_id=visit.pk)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    with filing_batch() as batch:  # the caller's batch (an intake) or its own
        batch.events.append(
            NewEvent(
                type=EVENT_VISIT_CLOSED,
                subject=visit.public_code,
                time=now,
                data={
                    "visit": visit.public_code,
                    "event_type": visit.event_type,
                    "event_date": visit.event_date.isoformat(),
                    "tasks_done": counts.get(TaskStatus.DONE, 0),
                    "tasks_not_needed": counts.get(TaskStatus.NOT_NEEDED, 0),
                },
            )
        )
        batch.audits.append(
            AuditRecord(
                action="visit.closed",
                actor=actor,
                object_type="visit",
                object_id=visit.public_code,
                function="counter.visit_close",
                terminal=terminal,
                detail={"tasks": sum(counts.values())},
            )
        )
    return True


# --- visits and task creation ---------------------------------------------------------------


def _code_taken(using: str, code: str) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {connections[using].ops.quote_name(Visit._meta.db_table)} "  # noqa: S608
            "WHERE public_code = %s",
            [code],
        )
        return cursor.fetchone() is not None


def visit_open(
    *,
    event_type: str,
    event_date: datetime.date,
    navigator_input: dict,
    atena_numbers: list[str],
    ticket: Ticket | None = None,
    actor: Any | None = None,
    terminal: Terminal | None = None,
    notifier: Mapping[str, str] | None = None,
) -> Visit:
    """Open a visit for one life event; its tasks come from :func:`tasks_create`.
    ``notifier``: the 届出人 as the visit's ``notifier_*`` fields."""
    if not event_type:
        raise TaskError(_("異動の種類を指定してください。"))
    if not isinstance(event_date, datetime.date):
        raise TaskError(_("異動日を指定してください。"))
    if isinstance(event_date, datetime.datetime):
        event_date = event_date.date()
    atena = [str(a) for a in atena_numbers or []]
    using = current_tenant_alias()
    opened_by_id, opened_by_username = _actor_fields(actor)
    # No savepoint: inside an intake a failure here fails the whole intake anyway.
    with transaction.atomic(using=using, savepoint=False):
        code = public_code_generate()
        while _code_taken(using, code):  # 46 bits: practically never
            code = public_code_generate()
        visit = Visit(
            public_code=code,
            ticket=ticket,
            event_type=event_type,
            event_date=event_date,
            atena_numbers=atena,
            navigator_input=navigator_input or {},
            status=VisitStatus.OPEN,
            opened_at=timezone.now(),
            opened_by_id=opened_by_id,
            opened_by_username=opened_by_username,
            **{k: v for k, v in (notifier or {}).items() if k in NOTIFIER_FIELDS},
        )
        rows_insert(Visit, [visit], using=using, returning=True)
        detail: dict[str, Any] = {
            "event_type": event_type,
            "event_date": event_date.isoformat(),
            "atena_numbers": atena,
        }
        if ticket is not None:
            detail["ticket"] = ticket.label
        with filing_batch() as batch:  # an intake writes every audit entry at its end
            batch.audits.append(
                AuditRecord(
                    action="visit.opened",
                    actor=actor,
                    object_type="visit",
                    object_id=visit.public_code,
                    function="counter.visit_open",
                    terminal=terminal,
                    detail=detail,
                )
            )
        if ticket is not None:  # the resident's turn at the window ends with the intake
            ticket_finish_for_visit(ticket=ticket, visit_code=code, actor=actor, terminal=terminal)
    return visit


def tasks_prepare(*, procedures: list[dict], catalogue: Any = None) -> list[Task]:
    """The unsaved tasks of navigator output ``procedures`` (no visit nor atena numbers
    yet), for :func:`tasks_create`: built before the transaction, which then holds the
    database's write lock only for the inserts. Raises TaskError."""
    forms, departments = _catalogue(catalogue)
    tasks = []
    for index, entry in enumerate(procedures):
        code = str(entry.get("code") or "")
        department = str(entry.get("department") or "")
        if not code or not department:
            raise TaskError(
                _("手続き %(index)s にコードまたは担当課がありません。") % {"index": index + 1}
            )
        person = entry.get("person")
        tasks.append(
            rows_new(Task, {
                "procedure_code": code,
                "title": str(entry.get("title") or code),
                "department": department,
                "department_name": departments.get(department, department),
                "person_label": str(person or ""),
                "filer_label": str(entry.get("filer") or ""),
                "due": _due(entry.get("due")),
                "reason": str(entry.get("reason") or ""),
                "forms": list(forms.get(code, ())),
                "status": TaskStatus.OPEN,
            })
        )  # fmt: skip
    return tasks


def tasks_create(
    *,
    visit: Visit,
    procedures: list[dict],
    person_atena: Mapping[str, str],
    actor: Any | None = None,
    terminal: Terminal | None = None,
    catalogue: Any = None,
    prepared: list[Task] | None = None,
    visit_is_new: bool = False,
    done_at_counter: Collection[tuple[str, str]] = (),
) -> list[Task]:
    """One task per navigator output entry (``{"code","title","department","person",
    "due","reason"}``); ``person_atena`` maps navigator person ids to atena numbers.

    Forms come by procedure code from ``catalogue`` (the one the navigator ran on; by
    default the effective catalogue). ``prepared``: the tasks already built from
    ``procedures`` by :func:`tasks_prepare`. ``visit_is_new``: ``visit`` was opened in
    the caller's transaction (no one else can see it: it needs no lock).
    ``done_at_counter``: the (procedure code, navigator person id) pairs the caller has
    itself carried out (the intake's registry change): those tasks are created done by
    ``actor``, at once. Emits ``jp.machi.task.created`` per task and, for a task done at
    the counter, ``jp.machi.task.completed`` as a department's completion does; a visit
    with nothing left pending closes at once.
    """
    using = current_tenant_alias()
    if prepared is None:
        prepared = tasks_prepare(procedures=procedures, catalogue=catalogue)
    now = timezone.now()
    actor_id, username = _actor_fields(actor)
    done = set(done_at_counter)
    tasks = []
    for task in prepared:
        task.visit_id = visit.pk
        person = task.person_label
        task.person_atena = str(person_atena.get(person, "")) if person else ""
        if task.filer_label:
            task.filer_atena = str(person_atena.get(task.filer_label, ""))
        task.created_at = now
        if (task.procedure_code, person) in done:
            task.status = TaskStatus.DONE
            task.taken_by_id, task.taken_by_username = actor_id, username
            task.taken_at = task.completed_at = now
        tasks.append(task)
    # No savepoint: inside an intake a failure here fails the whole intake anyway.
    with transaction.atomic(using=using, savepoint=False):
        if not visit_is_new:
            visit = Visit.objects.using(using).select_for_update().get(pk=visit.pk)
        created = rows_insert(Task, tasks, using=using, returning=True)
        if any(task.pk is None for task in created):  # a backend without RETURNING
            created = list(
                Task.objects.using(using).filter(visit_id=visit.pk, created_at=now).order_by("id")
            )
        for task in created:
            task.visit = visit
        with filing_batch() as batch:  # an intake writes every event and entry at its end
            batch.events.extend(
                NewEvent(
                    type=EVENT_TASK_CREATED,
                    subject=str(task.pk),
                    time=now,
                    data={
                        "task_id": task.pk,
                        "visit": visit.public_code,
                        "procedure_code": task.procedure_code,
                        "department": task.department,
                        "due": task.due.isoformat() if task.due else None,
                    },
                )
                for task in created
            )
            batch.audits.append(
                AuditRecord(
                    action="task.created",
                    actor=actor,
                    object_type="visit",
                    object_id=visit.public_code,
                    function="counter.tasks_create",
                    terminal=terminal,
                    detail={
                        "tasks": [task.pk for task in created],
                        "procedures": [task.procedure_code for task in created],
                    },
                )
            )
            for task in created:
                if task.status == TaskStatus.DONE:
                    _completed_at_counter(task, visit, batch, actor=actor, terminal=terminal)
            if not any(task.status in TASK_PENDING for task in created):
                _close_if_done(visit, actor=actor, terminal=terminal)
    return created


def _completed_at_counter(
    task: Task, visit: Visit, batch: Any, *, actor: Any | None, terminal: Terminal | None
) -> None:
    """The audit entry and the event of a department's 完了, for a task the intake did."""
    batch.audits.append(
        AuditRecord(
            action="task.completed",
            actor=actor,
            object_type="task",
            object_id=str(task.pk),
            function="counter.tasks_create",
            terminal=terminal,
            detail={
                "visit": visit.public_code,
                "procedure_code": task.procedure_code,
                "department": task.department,
                "status": task.status,
                "at_counter": True,
            },
        )
    )
    batch.events.append(
        NewEvent(
            type=EVENT_TASK_COMPLETED,
            subject=str(task.pk),
            time=task.completed_at,
            data={
                "task_id": task.pk,
                "visit": visit.public_code,
                "procedure_code": task.procedure_code,
                "department": task.department,
                "outcome": TaskStatus.DONE,
            },
        )
    )


# --- working a task ---------------------------------------------------------------------------


def _refusal(task: Task) -> str:
    # Resolved at call time so the message is in the request's language.
    messages = {
        TaskStatus.TAKEN: _("この手続きは %(user)s さんが対応中です。"),
        TaskStatus.DONE: _("この手続きは完了しています。"),
        TaskStatus.NOT_NEEDED: _("この手続きは不要とされています。"),
    }
    return messages.get(task.status, _("この手続きは操作できません。")) % {
        "user": task.taken_by_username
    }


def _work(
    *,
    task: Task,
    verb: str,
    allowed_from: tuple[str, ...],
    actor: Any,
    terminal: Terminal | None,
    changes: dict[str, Any],
    outcome: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Task:
    """Check the actor's department, lock the visit then the task, check the status,
    apply ``changes``, audit ``task.<verb>``; for an ``outcome`` emit
    ``jp.machi.task.completed`` and close the visit after its last task."""
    if not staff_may_work_department(actor, task.department):
        raise PermissionDenied(_("この課の手続きを扱う権限がありません。"))
    using = current_tenant_alias()
    with transaction.atomic(using=using):
        # Visit first: two tasks of one visit ending at once close it exactly once.
        visit = Visit.objects.using(using).select_for_update().filter(pk=task.visit_id).first()
        locked = Task.objects.using(using).select_for_update().filter(pk=task.pk).first()
        if visit is None or locked is None:
            raise TaskError(_("手続きが見つかりません。"))
        if locked.status not in allowed_from:
            raise TaskError(_refusal(locked))
        for name, value in changes.items():
            setattr(locked, name, value(locked) if callable(value) else value)
        locked.save(update_fields=list(changes))
        locked.visit = visit
        audit_append(
            action=f"task.{verb}",
            actor=actor,
            object_type="task",
            object_id=str(locked.pk),
            function=f"counter.task_{verb}",
            terminal=terminal,
            detail={
                "visit": visit.public_code,
                "procedure_code": locked.procedure_code,
                "department": locked.department,
                "status": locked.status,
                **(detail or {}),
            },
        )
        if outcome is not None:
            outbox_append(
                type=EVENT_TASK_COMPLETED,
                subject=str(locked.pk),
                time=locked.completed_at,
                data={
                    "task_id": locked.pk,
                    "visit": visit.public_code,
                    "procedure_code": locked.procedure_code,
                    "department": locked.department,
                    "outcome": outcome,
                },
            )
            _close_if_done(visit, actor=actor, terminal=terminal)
    return locked


def _taker(actor: Any) -> dict[str, Any]:
    """Who handled the task: kept when it was taken, else the one ending it."""
    actor_id, username = _actor_fields(actor)
    now = timezone.now()
    return {
        "taken_by_id": lambda t: t.taken_by_id if t.taken_by_id is not None else actor_id,
        "taken_by_username": lambda t: t.taken_by_username or username,
        "taken_at": lambda t: t.taken_at or now,
    }


def task_take(*, task: Task, actor: Any, terminal: Terminal | None = None) -> Task:
    """Take an open task (担当する): it shows as 対応中 with the staff member's name."""
    actor_id, username = _actor_fields(actor)
    return _work(
        task=task,
        verb="taken",
        allowed_from=(TaskStatus.OPEN,),
        actor=actor,
        terminal=terminal,
        changes={
            "status": TaskStatus.TAKEN,
            "taken_by_id": actor_id,
            "taken_by_username": username,
            "taken_at": timezone.now(),
        },
    )


def task_complete(*, task: Task, actor: Any, terminal: Terminal | None = None) -> Task:
    """The procedure is done (完了); an open task may be completed without taking it."""
    return _work(
        task=task,
        verb="completed",
        allowed_from=TASK_PENDING,
        actor=actor,
        terminal=terminal,
        changes={**_taker(actor), "status": TaskStatus.DONE, "completed_at": timezone.now()},
        outcome=TaskStatus.DONE,
    )


def task_mark_not_needed(
    *, task: Task, reason: str, actor: Any, terminal: Terminal | None = None
) -> Task:
    """The procedure turned out not to be needed (不要); the reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise TaskError(_("不要とする理由を入力してください。"))
    if len(reason) > NOT_NEEDED_REASON_MAX:
        raise TaskError(
            _("理由は %(max)s 文字以内にしてください。") % {"max": NOT_NEEDED_REASON_MAX}
        )
    return _work(
        task=task,
        verb="not_needed",
        allowed_from=TASK_PENDING,
        actor=actor,
        terminal=terminal,
        changes={
            **_taker(actor),
            "status": TaskStatus.NOT_NEEDED,
            "completed_at": timezone.now(),
            "not_needed_reason": reason,
        },
        outcome=TaskStatus.NOT_NEEDED,
    )
