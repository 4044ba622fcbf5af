from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.publiccomment.models import IdentityRule
from machi.publiccomment.services import MAX_BODY


def mark_errors(form: forms.Form) -> None:
    """Point each control at its message and help (aria-describedby, aria-invalid)."""
    for name, field in form.fields.items():
        bound = form[name]
        described = []
        if form.is_bound and name in form.errors:
            described.append(f"{bound.auto_id}_error")
            field.widget.attrs["aria-invalid"] = "true"
        if field.help_text:
            described.append(f"{bound.auto_id}_help")
        if described:
            field.widget.attrs["aria-describedby"] = " ".join(described)


def error_summary(form: forms.Form) -> list[tuple[str, str, str]]:
    if not form.is_bound:
        return []
    return [
        (str(form[name].label), error, form[name].auto_id)
        if name in form.fields
        else ("", error, "")
        for name, errors in form.errors.items()
        for error in errors
    ]


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("ご意見"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("8000文字以内。意見の概要と市の考え方を公表します。お名前などは公表しません。"),
        error_messages={"required": _("ご意見を入力してください。"),
                        "max_length": _("ご意見は8000文字以内で入力してください。")},
    )  # fmt: skip
    name = forms.CharField(label=_("氏名（団体の場合は名称）"), max_length=100, required=False)
    address = forms.CharField(label=_("住所（所在地）"), max_length=200, required=False)
    contact = forms.CharField(
        label=_("連絡先（電話番号またはメールアドレス）"), max_length=200, required=False,
        help_text=_("内容を確認させていただく場合に使います。"),
    )  # fmt: skip
    attachment = forms.FileField(
        label=_("添付ファイル（任意）"), required=False,
        help_text=_("PDF・PNG・JPEG、5MB以下。"),
    )  # fmt: skip
    website = forms.CharField(label=_("この欄は空のままにしてください"), required=False)

    def __init__(self, *args, identity_required: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, message in (("name", _("氏名（名称）を入力してください。")),
                              ("address", _("住所（所在地）を入力してください。"))):  # fmt: skip
            self.fields[name].required = identity_required
            self.fields[name].error_messages["required"] = message
            self.fields[name].error_messages["max_length"] = _("長すぎます。")
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")
        self.fields["body"].widget.attrs["maxlength"] = MAX_BODY

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class ConsultationForm(forms.Form):
    title = forms.CharField(label=_("案件名"), max_length=200)
    summary = forms.CharField(
        label=_("案の概要"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6})
    )
    department = forms.ChoiceField(label=_("担当課"))
    first_day = forms.DateField(
        label=_("募集開始日"), widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(
        label=_("募集終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("空欄なら開始日から30日間（行政手続法第39条）。"),
    )  # fmt: skip
    short_period_reason = forms.CharField(
        label=_("30日未満とする理由"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("期間が30日未満のときは必須です。理由は案とともに公示されます（行政手続法第40条）。"),
    )  # fmt: skip
    identity_rule = forms.ChoiceField(
        label=_("提出者の氏名・住所"), choices=IdentityRule.choices, initial=IdentityRule.OPTIONAL
    )

    def __init__(self, *args, departments: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = list(departments.items())
        if not self.is_bound and "first_day" not in self.initial:
            self.initial["first_day"] = datetime.date.today()


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("資料名"), max_length=200)
    file = forms.FileField(label=_("PDF ファイル"), help_text=_("10MB以下。"))


class GroupForm(forms.Form):
    summary = forms.CharField(
        label=_("意見の概要"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    view = forms.CharField(
        label=_("市の考え方"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    draft_changed = forms.BooleanField(label=_("この意見により案を修正した"), required=False)


class ResultForm(forms.Form):
    note = forms.CharField(
        label=_("結果の補足（任意）"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
