"""Forms of the staff's announcement editor and the residents' mail subscription."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.announce.models import LANGUAGES, Announcement, Certainty, Severity, Status, Urgency
from machi.announce.services import MAX_BODY, MAX_TITLE
from machi.publiccomment.forms import error_summary, mark_errors

__all__ = ["AnnouncementForm", "SubscribeForm", "error_summary", "mark_errors"]

LANGUAGE_LABELS = {"ja": _("日本語"), "ja-easy": _("やさしい日本語"), "en": _("英語")}


def _key(code: str) -> str:
    return code.replace("-", "_")


class AnnouncementForm(forms.Form):
    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in LANGUAGES:
            required = code == "ja"
            label = LANGUAGE_LABELS[code]
            self.fields[f"title_{_key(code)}"] = forms.CharField(
                label=_("件名（%(language)s）") % {"language": label}, max_length=MAX_TITLE,
                required=required,
            )  # fmt: skip
            self.fields[f"body_{_key(code)}"] = forms.CharField(
                label=_("本文（%(language)s）") % {"language": label}, max_length=MAX_BODY,
                required=required, widget=forms.Textarea(attrs={"rows": 8}),
                help_text=_("Markdown で書けます。") if required else
                _("空欄なら、この言語の読者には日本語を表示します。"),
            )  # fmt: skip
        self.fields["category"] = forms.ChoiceField(label=_("分類"), choices=categories)
        self.fields["urgency"] = forms.ChoiceField(
            label=_("緊急度"), choices=Urgency.choices, initial=Urgency.UNKNOWN
        )
        self.fields["severity"] = forms.ChoiceField(
            label=_("深刻度"), choices=Severity.choices, initial=Severity.UNKNOWN
        )
        self.fields["certainty"] = forms.ChoiceField(
            label=_("確度"), choices=Certainty.choices, initial=Certainty.LIKELY
        )
        self.fields["area_name"] = forms.CharField(
            label=_("対象地域"), max_length=200, required=False,
            help_text=_("空欄なら自治体の全域です。"),
        )  # fmt: skip
        self.fields["area_polygon"] = forms.CharField(
            label=_("対象地域の多角形"), required=False, max_length=5000,
            help_text=_("「緯度,経度」を空白で区切り、最初と最後を同じ点にします（CAP 形式）。"),
        )  # fmt: skip
        self.fields["area_circle"] = forms.CharField(
            label=_("対象地域の円"), required=False, max_length=100,
            help_text=_("「緯度,経度 半径（km）」（例: 35.69,139.75 2.5）。"),
        )  # fmt: skip
        self.fields["valid_until"] = forms.DateTimeField(
            label=_("有効期限"), required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
            help_text=_("防災のお知らせで空欄なら、公開から24時間です。"),
        )  # fmt: skip
        self.fields["supersedes"] = forms.ModelChoiceField(
            label=_("訂正するお知らせ"), required=False,
            queryset=Announcement.objects.filter(status=Status.PUBLISHED),
            help_text=_("公開中のお知らせを訂正する場合に選びます（CAP では Update）。"),
        )  # fmt: skip

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": {code: data.get(f"title_{_key(code)}") or "" for code in LANGUAGES},
            "body": {code: data.get(f"body_{_key(code)}") or "" for code in LANGUAGES},
            **{
                name: data[name]
                for name in (
                    "category", "urgency", "severity", "certainty", "area_name",
                    "area_polygon", "area_circle", "valid_until", "supersedes",
                )
            },
        }  # fmt: skip

    @staticmethod
    def initial_of(announcement: Announcement) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for code in LANGUAGES:
            initial[f"title_{_key(code)}"] = announcement.title.get(code, "")
            initial[f"body_{_key(code)}"] = announcement.body.get(code, "")
        for name in (
            "category", "urgency", "severity", "certainty", "area_name", "area_polygon",
            "area_circle", "valid_until", "supersedes",
        ):  # fmt: skip
            initial[name] = getattr(announcement, name)
        return initial


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("メールアドレス"), max_length=254)
    categories = forms.MultipleChoiceField(
        label=_("受け取るお知らせ"), widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(
        label=_("言語"),
        choices=[(code, LANGUAGE_LABELS[code]) for code in LANGUAGES],
        widget=forms.RadioSelect,
        initial="ja",
    )
    # A field people never see: bots fill it in.
    website = forms.CharField(required=False, label=_("（入力しないでください）"))

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = categories
