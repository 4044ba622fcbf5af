"""The dashboards' date-range filter (``?from=YYYY-MM-DD&to=YYYY-MM-DD``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.analytics.selectors import MAX_DAYS, Period


class PeriodForm(forms.Form):
    """Both dates are optional: without ``to`` the period ends today (JST), without
    ``from`` it starts 12 weeks before its end. ``from`` is a Python keyword, so the
    fields are added by name in ``__init__``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(
            label=_("開始日"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": _("開始日を 2026-04-01 の形で入力してください。")},
        )
        self.fields["to"] = forms.DateField(
            label=_("終了日"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": _("終了日を 2026-04-30 の形で入力してください。")},
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        period = Period.of(data.get("from"), data.get("to"))
        if period.date_from > period.date_to:
            self.add_error("to", _("終了日は開始日と同じか、後の日にしてください。"))
        elif (period.date_to - period.date_from).days + 1 > MAX_DAYS:
            self.add_error("to", _("期間は %(days)s 日以内にしてください。") % {"days": MAX_DAYS})
        elif period.date_from < dt.date(2000, 1, 1):
            self.add_error("from", _("開始日は 2000-01-01 以降にしてください。"))
        data["period"] = period
        return data

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]

    def mark_errors(self) -> None:
        """Point each control with an error at its message (aria-describedby)."""
        for name, field in self.fields.items():
            if name in self.errors:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"
                field.widget.attrs["aria-invalid"] = "true"
