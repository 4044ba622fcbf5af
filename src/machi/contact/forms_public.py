"""Forms of the resident's contact pages (FAQ search, the web form) and of the
contact center's metrics page. The services check again; the forms name the field."""

from __future__ import annotations

import datetime
import unicodedata
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from machi.contact.models import Ticket
from machi.contact.selectors import QUERY_MAX

QUESTION_MAX = 4000  # a web question; the service allows more (mail, staff)
NAME_MAX = Ticket._meta.get_field("contact_name").max_length
METRICS_MAX_DAYS = 366


def _plain(value: str) -> str:
    """Plain text only: control characters (but line breaks and tabs) are dropped; the
    text is stored as typed otherwise and escaped on every page."""
    return "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")
    ).strip()


def mark_errors(form: forms.Form) -> None:
    """Point each control with an error at its message (aria-describedby)."""
    for name, field in form.fields.items():
        if name in form.errors:
            bound = form[name]
            described = [f"{bound.auto_id}_error"]
            if field.help_text:
                described.append(f"{bound.auto_id}_help")
            field.widget.attrs["aria-describedby"] = " ".join(described)
            field.widget.attrs["aria-invalid"] = "true"
        elif field.help_text:
            field.widget.attrs["aria-describedby"] = f"{form[name].auto_id}_help"


class FaqSearchForm(forms.Form):
    q = forms.CharField(
        label=_("知りたいこと"),
        max_length=QUERY_MAX,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "size": 30}),
        error_messages={
            "max_length": _("知りたいことは %(limit_value)d 文字以内で入力してください。")
        },
    )


class ContactForm(forms.Form):
    question = forms.CharField(
        label=_("お問い合わせの内容"),
        max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text=_("%(max)s文字まで。文字だけを送れます（HTMLやファイルは送れません）。")
        % {"max": QUESTION_MAX},
        error_messages={
            "required": _("お問い合わせの内容を入力してください。"),
            "max_length": _("お問い合わせの内容は %(limit_value)d 文字以内にしてください。"),
        },
    )
    topic = forms.ChoiceField(
        label=_("分類（わかれば）"),
        required=False,
        choices=[],
        error_messages={"invalid_choice": _("分類を一覧から選んでください。")},
    )
    name = forms.CharField(
        label=_("お名前（任意）"),
        max_length=NAME_MAX,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"max_length": _("お名前は %(limit_value)d 文字以内で入力してください。")},
    )
    email = forms.EmailField(
        label=_("メールアドレス（任意）"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("回答をメールで受け取りたい方は入力してください。"),
        error_messages={
            "invalid": _("メールアドレスの形が正しくありません（例: taro@example.jp）。"),
            "max_length": _("メールアドレスは %(limit_value)d 文字以内で入力してください。"),
        },
    )
    # The honeypot: hidden from people (and from assistive technology), filled by bots.
    website = forms.CharField(
        required=False,
        label=_("この欄には何も入力しないでください"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, topics: list[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", _("わからない・選ばない")), *topics]

    def clean_question(self) -> str:
        text = _plain(self.cleaned_data["question"])
        if not text:
            raise forms.ValidationError(_("お問い合わせの内容を入力してください。"))
        return text

    def clean_name(self) -> str:
        name = _plain(self.cleaned_data["name"])
        if "\n" in name or "\t" in name:
            raise forms.ValidationError(_("お名前は1行で入力してください。"))
        return name

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))


class MetricsForm(forms.Form):
    since = forms.DateField(
        label=_("開始日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("開始日を 2026-04-01 の形で入力してください。")},
    )
    until = forms.DateField(
        label=_("終了日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("終了日を 2026-04-30 の形で入力してください。")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        until = data.get("until") or timezone.localdate()
        since = data.get("since") or until - datetime.timedelta(days=27)
        if since > until:
            self.add_error("until", _("終了日は開始日より後の日にしてください。"))
        elif (until - since).days >= METRICS_MAX_DAYS:
            self.add_error(
                "until", _("期間は %(days)s 日以内にしてください。") % {"days": METRICS_MAX_DAYS}
            )
        data["since"], data["until"] = since, until
        return data
