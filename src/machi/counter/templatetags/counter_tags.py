"""Template helpers of the counter screens."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as 「12分05秒」, 「1時間02分」 or 「45秒」; 「—」 for none."""
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(hours)d時間%(minutes)02d分") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)d分%(seconds)02d秒") % {"minutes": minutes, "seconds": secs}
    return _("%(seconds)d秒") % {"seconds": secs}


@register.simple_tag(takes_context=True)
def has_role(context: Any, *roles: str) -> bool:
    """``{% has_role "supervisor" as may %}``: the signed-in staff member holds a role."""
    user = context.get("user")
    return bool(user is not None and user.is_authenticated and user.has_role(*roles))
