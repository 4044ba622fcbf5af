"""Writes of the counter-demand forecast: the calendar events staff add (給付金の締切, a
選挙 …) and remove. Who: municipality administrators and supervisors (the roles of
the forecast page). Every change is audited (``forecast.event.created`` / ``.deleted``);
bad input changes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.analytics.forecast.models import EFFECT_MAX, EFFECT_MIN, ForecastEvent
from machi.audit.services import Terminal, audit_append
from machi.tenancy.context import current_lg_code, current_tenant_alias

EDIT_ROLES = (Role.MUNICIPALITY_ADMIN, Role.SUPERVISOR)
NAME_MAX = 100
# An event further than this from today is a typing mistake (年 wrong), not a plan.
HORIZON_YEARS = 2


class ForecastEventError(ValidationError):
    """Bad input for an event: nothing was changed."""


def _require(actor: Any) -> None:
    municipality = getattr(actor, "municipality", None)
    if (
        municipality is None
        or municipality.lg_code != current_lg_code()
        or not actor.has_role(*EDIT_ROLES)
    ):
        raise PermissionDenied(_("この操作をする役割がありません。"))


def _audit(verb: str, event: ForecastEvent, actor: Any, terminal: Terminal | None) -> None:
    audit_append(
        action=f"forecast.event.{verb}",
        actor=actor,
        object_type="forecast_event",
        object_id=str(event.pk),
        function="analytics.forecast",
        terminal=terminal,
        detail={
            "day": event.day.isoformat(),
            "name": event.name,
            "effect_percent": event.effect_percent,
        },
    )


def _clean(
    *, day: Any, name: Any, effect_percent: Any, today: datetime.date
) -> tuple[datetime.date, str, int]:
    errors: dict[str, list[str]] = {}
    if isinstance(day, datetime.datetime) or not isinstance(day, datetime.date):
        errors.setdefault("day", []).append(_("日付を正しく入力してください。"))
    elif abs(day.year - today.year) > HORIZON_YEARS:
        errors.setdefault("day", []).append(
            _("日付は今年の前後 %(years)s 年以内にしてください。") % {"years": HORIZON_YEARS}
        )
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        errors.setdefault("name", []).append(_("行事・締切の名前を入力してください。"))
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(
            _("名前は %(max)s 文字以内にしてください。") % {"max": NAME_MAX}
        )
    if isinstance(effect_percent, bool) or not isinstance(effect_percent, int):
        errors.setdefault("effect_percent", []).append(
            _("見込む増減は整数（％）で入力してください。")
        )
    elif not EFFECT_MIN <= effect_percent <= EFFECT_MAX:
        errors.setdefault("effect_percent", []).append(
            _("見込む増減は %(min)s〜%(max)s ％にしてください。")
            % {"min": EFFECT_MIN, "max": EFFECT_MAX}
        )
    elif effect_percent == 0:
        errors.setdefault("effect_percent", []).append(_("増減が 0 ％の行事は予測を変えません。"))
    if errors:
        raise ForecastEventError(errors)
    return day, name, effect_percent


def forecast_event_create(
    *, actor: Any, day: datetime.date, name: str, effect_percent: int,
    terminal: Terminal | None = None, today: datetime.date | None = None,
) -> ForecastEvent:  # fmt: skip
    """A day staff expect to be busier (+) or quieter (−) than the calendar says, by
    ``effect_percent`` %. The same name on the same day is refused."""
    _require(actor)
    from machi.analytics.forecast.selectors import JST

    today = today or datetime.datetime.now(JST).date()
    day, name, effect_percent = _clean(
        day=day, name=name, effect_percent=effect_percent, today=today
    )
    with transaction.atomic(using=current_tenant_alias()):
        if ForecastEvent.objects.filter(day=day, name=name).exists():
            raise ForecastEventError({"name": [_("同じ日に同じ名前の行事がもうあります。")]})
        event = ForecastEvent.objects.create(
            day=day, name=name, effect_percent=effect_percent,
            created_by_id=getattr(actor, "pk", None),
            created_by_username=getattr(actor, "username", "") or "",
        )  # fmt: skip
        _audit("created", event, actor, terminal)
    return event


def forecast_event_delete(*, actor: Any, event_id: int, terminal: Terminal | None = None) -> None:
    """Remove an event (ForecastEvent.DoesNotExist when it is not this municipality's)."""
    _require(actor)
    with transaction.atomic(using=current_tenant_alias()):
        event = ForecastEvent.objects.select_for_update().get(pk=event_id)
        _audit("deleted", event, actor, terminal)
        event.delete()
