from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label=_("職員（ユーザー名）"), required=False, max_length=150)
    object_id = forms.CharField(label=_("対象（宛名番号など）"), required=False, max_length=100)
    action = forms.CharField(label=_("操作"), required=False, max_length=100)
    date_from = forms.DateField(
        label=_("開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
