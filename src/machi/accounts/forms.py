from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("ユーザー名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("パスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("確認コード（6桁）"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("6桁の数字を入力してください。")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "maxlength": 6,
            }
        ),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("表示言語"), choices=[("ja", "日本語"), ("en", "English")])


class PasswordSetForm(forms.Form):
    password1 = forms.CharField(
        label=_("新しいパスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=_("12文字以上。ほかのサービスと同じものは使わないでください。"),
    )
    password2 = forms.CharField(
        label=_("新しいパスワード（確認）"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("確認のパスワードが一致しません。"))
        return data
