from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.analytics.accesslog.models import Analysis, FindingStatus


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状態"),
        required=False,
        choices=[("", _("すべて")), *FindingStatus.choices],
        initial=FindingStatus.OPEN,
    )
    analysis = forms.ChoiceField(
        label=_("分析"), required=False, choices=[("", _("すべて")), *Analysis.choices]
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("確認の結果"),
        choices=[
            (FindingStatus.EXPLAINED, FindingStatus.EXPLAINED.label),
            (FindingStatus.ESCALATED, FindingStatus.ESCALATED.label),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("所見"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("本人や所属に確認した内容、業務上の理由、報告先などを書いてください。"),
    )
