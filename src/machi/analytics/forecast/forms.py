"""Forms of the forecast page: the options (day shown by hour, target wait) and the
calendar event staff add."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.analytics.forecast.models import EFFECT_MAX, EFFECT_MIN
from machi.analytics.forecast.services import NAME_MAX

TARGET_MIN, TARGET_MAX = 1, 120


class OptionsForm(forms.Form):
    day = forms.DateField(
        label=_("時間帯別に見る日"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("予測の期間の開庁日を選んでください。"),
    )  # fmt: skip
    target = forms.IntegerField(
        label=_("目標の待ち時間（分）"), required=False, min_value=TARGET_MIN,
        max_value=TARGET_MAX,
        help_text=_("10人に9人の待ち時間（p90）をこの分数以内にする窓口数を計算します。"),
    )  # fmt: skip


class EventForm(forms.Form):
    """Its ids start with ``event_`` (the options form above it also has a ``day``)."""

    day = forms.DateField(label=_("日付"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(
        label=_("行事・締切の名前"), max_length=NAME_MAX,
        help_text=_("例: 給付金の締切、選挙の期日前投票の初日"),
    )  # fmt: skip
    effect_percent = forms.IntegerField(
        label=_("見込む増減（％）"), min_value=EFFECT_MIN, max_value=EFFECT_MAX,
        help_text=_("いつもの日より何％多いか（少ないときは負の数）。例: 60"),
    )  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "event_%s")
        super().__init__(*args, **kwargs)
