from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("例: 国保システム"))
    url = forms.CharField(
        label=_("送信先 URL"),
        max_length=500,
        help_text=_(
            "https:// で始まる、受信側システムの URL。登録の前に確認用のイベントを送ります。"
        ),
    )
    types = forms.CharField(
        label=_("イベント種別"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "1行に1つ（または , 区切り）。例: jp.machi.resident.* 。空欄ならすべての種別。"
        ),
    )
    secret = forms.CharField(
        label=_("署名鍵（任意）"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("whsec_ で始まる鍵。空欄なら生成し、登録後に一度だけ表示します。"),
    )

    def type_list(self) -> list[str]:
        raw = self.cleaned_data.get("types", "")
        return [t.strip() for t in raw.replace(",", "\n").splitlines() if t.strip()]
