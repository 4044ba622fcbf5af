from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from machi.apiclients.models import Scope


class ApiClientForm(forms.Form):
    name = forms.CharField(
        label=_("名称"),
        max_length=100,
        help_text=_("連携するシステムの名前（例: 国保システム）。"),
    )
    scopes = forms.MultipleChoiceField(
        label=_("権限"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "必要な権限だけを選んでください。個人番号の取得は番号利用事務のシステムに限ります。"
        ),
    )
    expires_on = forms.DateField(
        label=_("有効期限（この日まで有効）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("空欄なら無期限です。"),
    )

    def clean_expires_on(self) -> datetime.date | None:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("有効期限は今日以降の日付にしてください。"))
        return day
