"""Forms of the contact center's staff screens. The services check everything again;
the forms give a clear message next to the field."""

from __future__ import annotations

import datetime
import itertools
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.contact.models import (
    Channel,
    FaqAnswer,
    FaqCategory,
    FaqStatus,
    LinkKind,
    Priority,
    TicketState,
)
from machi.contact.services.tickets import BODY_MAX, REASON_MAX, SUBJECT_MAX

OPEN_STATES = "open_all"  # every state but 完了 (the default of the list)
ALL_STATES = "all"


def _choices(blank: str, pairs) -> list[tuple[str, str]]:
    return [("", blank), *[(str(value), label) for value, label in pairs]]


def _pairs(rows) -> list[tuple[str, str]]:
    return [(row.code, row.name) for row in rows]


SORT_NEWEST = ""
SORT_DUE = "due"  # the next SLA due moment first (overdue ones first of all)


class TicketFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("状態"),
        required=False,
        choices=[
            ("", _("完了以外すべて")),
            *TicketState.choices,
            (ALL_STATES, _("すべて（完了を含む）")),
        ],
    )
    priority = forms.TypedChoiceField(
        label=_("優先度"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=_choices(_("すべて"), Priority.choices),
    )
    group = forms.ChoiceField(label=_("担当課"), required=False)
    owner = forms.ChoiceField(
        label=_("担当者"),
        required=False,
        choices=[("", _("すべて")), ("mine", _("自分")), ("none", _("未割当"))],
    )
    channel = forms.ChoiceField(
        label=_("受付経路"), required=False, choices=_choices(_("すべて"), Channel.choices)
    )
    sort = forms.ChoiceField(
        label=_("並び順"),
        required=False,
        choices=[(SORT_NEWEST, _("受付の新しい順")), (SORT_DUE, _("SLA期限の近い順"))],
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [
            ("", _("すべて")),
            ("-", _("担当課なし")),
            *[(d.code, d.name) for d in departments],
        ]


class _TicketFields(forms.Form):
    """What an agent or a clerk writes down while the resident is there or on the line."""

    subject = forms.CharField(label=_("件名"), max_length=SUBJECT_MAX)
    question = forms.CharField(
        label=_("お問い合わせ内容"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    contact_name = forms.CharField(label=_("お名前"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("電話番号"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("メールアドレス"), required=False)
    topic = forms.ChoiceField(label=_("分類"), required=False)
    priority = forms.TypedChoiceField(
        label=_("優先度"), coerce=int, choices=Priority.choices, initial=Priority.NORMAL
    )
    group = forms.ChoiceField(label=_("担当課"), required=False)

    def __init__(self, *args, departments=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("指定しない")), *_pairs(departments)]
        self.fields["topic"].choices = [("", _("指定しない")), *_pairs(categories)]

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        if phone and not all(ch.isdigit() or ch in "-()+ 　－" for ch in phone):
            raise forms.ValidationError(_("電話番号は数字とハイフンで入力してください。"))
        return phone


class PhoneTicketForm(_TicketFields):
    """The phone ticket; the FAQ searches its typing made come as ``faq_search`` ids,
    read by the view (they are not the caller's data)."""


class HandoverForm(_TicketFields):
    visit = forms.CharField(
        label=_("受付番号（来庁）"),
        max_length=14,
        required=False,
        help_text=_("来庁の受付番号があれば入力すると、問い合わせに結び付けます。"),
    )


class ReplyForm(forms.Form):
    AFTER = [
        ("", _("対応中のまま")),
        (TicketState.PENDING_CUSTOMER, _("回答待ちにする")),
        (TicketState.RESOLVED, _("解決にする")),
    ]
    body = forms.CharField(
        label=_("回答"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    after = forms.ChoiceField(label=_("送信後の状態"), choices=AFTER, required=False)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("内部メモ"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class StateForm(forms.Form):
    state = forms.ChoiceField(label=_("新しい状態"))
    reason = forms.CharField(label=_("理由（任意）"), max_length=REASON_MAX, required=False)

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [(s, TicketState(s).label) for s in allowed]


class AssignForm(forms.Form):
    owner = forms.TypedChoiceField(label=_("担当者"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("担当者なし（課の受付箱へ戻す）")),
            *[(s.pk, f"{s.display_name}（{s.username}）") for s in staff],
        ]


class DepartmentForm(forms.Form):
    department = forms.ChoiceField(label=_("担当課"))

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.code, d.name) for d in departments]


class EscalateForm(DepartmentForm):
    reason = forms.CharField(
        label=_("回す理由"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("統合先の問い合わせ番号"),
        max_length=20,
        help_text=_("例: 2026-000123。この問い合わせは統合先に移り、完了になります。"),
    )
    reason = forms.CharField(label=_("理由（任意）"), max_length=REASON_MAX, required=False)


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("種類"), choices=LinkKind.choices)
    ref = forms.CharField(label=_("受付番号"), max_length=40)


class ResidentLinkForm(forms.Form):
    atena_number = forms.CharField(label=_("宛名番号"), max_length=20)
    purpose = forms.CharField(label=_("照会の目的"), max_length=300)


# ---------------------------------------------------------------- FAQ administration


class FaqFilterForm(forms.Form):
    q = forms.CharField(label=_("質問に含む語"), max_length=100, required=False)
    category = forms.ChoiceField(label=_("分類"), required=False)
    status = forms.ChoiceField(
        label=_("状態"), required=False, choices=_choices(_("すべて"), FaqStatus.choices)
    )
    review = forms.BooleanField(label=_("見直し日を過ぎたものだけ"), required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("すべて")), *_pairs(categories)]


class FaqAnswerForm(forms.ModelForm):
    category = forms.ModelChoiceField(
        label=_("分類"), queryset=FaqCategory.objects.none(), to_field_name="code"
    )
    department = forms.ChoiceField(label=_("担当課"), required=False)
    status = forms.ChoiceField(label=_("状態"), choices=FaqStatus.choices, widget=forms.RadioSelect)
    review_on = forms.DateField(
        label=_("見直し日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("この日を過ぎると一覧で「見直し期限切れ」と表示します。"),
    )

    class Meta:
        model = FaqAnswer
        fields = ["category", "question", "answer", "keywords", "department", "status", "review_on"]
        widgets = {"answer": forms.Textarea(attrs={"rows": 10})}
        help_texts = {
            "answer": _(
                "テキストまたは Markdown（見出し・箇条書き・リンク）。"
                "HTML タグは文字として表示されます。"
            ),
            "keywords": _("検索で見つけやすくする語を空白で区切って入力します。"),
        }

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = FaqCategory.objects.all()
        self.fields["department"].choices = [("", _("指定しない")), *_pairs(departments)]


class SynonymForm(forms.Form):
    words = forms.CharField(
        label=_("同義語のグループ"),
        max_length=500,
        help_text=_("同じ意味の語を空白で区切って入力します（例: がらくた 粗大ごみ）。"),
    )


class FaqCategoryForm(forms.Form):
    code = forms.CharField(
        label=_("分類コード"),
        max_length=40,
        help_text=_("半角英小文字・数字・ハイフン（例: gomi-recycle）。後から変えられません。"),
    )
    name = forms.CharField(label=_("分類名"), max_length=100)


class FaqCategoryRenameForm(forms.Form):
    name = forms.CharField(label=_("分類名"), max_length=100)


# ---------------------------------------------------------------- contact center settings

WEEKDAYS = [
    _("月曜日"),
    _("火曜日"),
    _("水曜日"),
    _("木曜日"),
    _("金曜日"),
    _("土曜日"),
    _("日曜日"),
]
SLA_MINUTES_MAX = 100_000  # about 190 business days of 8:30–17:15: beyond that, a typo
# The targets a priority without a policy is offered (the data migration 0005 froze the
# same values for every municipality): first response, resolution, warning, in minutes.
SLA_DEFAULTS: dict[int, tuple[int, int, int]] = {
    Priority.URGENT: (60, 525, 15),
    Priority.HIGH: (240, 1_050, 60),
    Priority.NORMAL: (525, 2_625, 120),
    Priority.LOW: (1_050, 5_250, 240),
}
SLA_TARGETS = [
    ("first", _("初回回答の目標（分）")),
    ("resolution", _("解決の目標（分）")),
    ("warn", _("期限前の警告（分）")),
]
_DASHES = "~〜−–—ｰー"


def hours_text(intervals) -> str:
    """Intervals → the form's text: ``8:30-12:00,13:00-17:15`` ('' closed)."""
    return ",".join(f"{a.hour}:{a.minute:02d}-{b.hour}:{b.minute:02d}" for a, b in intervals)


def _clock(text: str) -> datetime.time | None:
    hour, sep, minute = text.strip().partition(":")
    if not sep or not hour.isdigit() or len(minute) != 2 or not minute.isdigit():
        return None
    if int(hour) > 23 or int(minute) > 59:
        return None
    return datetime.time(int(hour), int(minute))


def _opening_hours(text: str) -> str:
    """The canonical text of one weekday's hours; ValidationError with the reason."""
    # Full-width digits and colons, 、 and the wave dashes Japanese keyboards type
    text = unicodedata.normalize("NFKC", text).replace("、", ",")
    for dash in _DASHES:
        text = text.replace(dash, "-")
    intervals = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        start, sep, end = part.partition("-")
        a, b = _clock(start), _clock(end)
        if not sep or a is None or b is None:
            raise forms.ValidationError(
                _("「%(part)s」は時間帯として読めません。8:30-17:15 の形で入力してください。"),
                params={"part": part},
                code="format",
            )
        if b <= a:
            raise forms.ValidationError(
                _("「%(part)s」は終わりが始まりより前です。"), params={"part": part}, code="order"
            )
        intervals.append((a, b))
    intervals.sort()
    for (_a1, b1), (a2, _b2) in itertools.pairwise(intervals):
        if a2 < b1:
            raise forms.ValidationError(_("時間帯が重なっています。"), code="overlap")
    return hours_text(intervals)


def _minutes_label(minutes: int, day_minutes: int | None) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        text = _("%(h)s 時間 %(m)s 分") % {"h": hours, "m": rest}
    elif hours:
        text = _("%(h)s 時間") % {"h": hours}
    else:
        text = _("%(m)s 分") % {"m": rest}
    if day_minutes and minutes >= day_minutes:
        days = minutes / day_minutes
        number = f"{days:.0f}" if days == int(days) else f"{days:.1f}"
        text = _("%(time)s（%(days)s 営業日）") % {"time": text, "days": number}
    return text


class ContactSettingsForm(forms.Form):
    """The contact center's opening hours (one field per weekday) and the SLA targets
    (three fields per priority). The view saves the whole form in one transaction."""

    def __init__(self, *args, day_minutes: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for weekday, name in enumerate(WEEKDAYS):
            self.fields[f"hours_{weekday}"] = forms.CharField(
                label=name,
                required=False,
                max_length=100,
                widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off"}),
            )
        for priority, priority_name in sorted(Priority.choices, reverse=True):
            for key, label in SLA_TARGETS:
                name = f"sla_{priority}_{key}"
                value = self.initial.get(name)
                shown = (
                    _("いまの値: %(label)s") % {"label": _minutes_label(value, day_minutes)}
                    if isinstance(value, int)
                    else ""
                )
                self.fields[name] = forms.IntegerField(
                    label=label,
                    min_value=0,
                    max_value=SLA_MINUTES_MAX,
                    help_text=shown,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                    error_messages={
                        "required": _("分数を入力してください（%(priority)s）。")
                        % {"priority": priority_name},
                        "invalid": _("半角数字の分数で入力してください。"),
                        "min_value": _("0 以上の分数で入力してください。"),
                        "max_value": _("%(limit)s 分以下で入力してください。")
                        % {"limit": f"{SLA_MINUTES_MAX:,}"},
                    },
                )

    def hours_fields(self) -> list:
        return [self[f"hours_{weekday}"] for weekday in range(7)]

    def priority_rows(self) -> list[tuple[str, list]]:
        return [
            (name, [self[f"sla_{priority}_{key}"] for key, _label in SLA_TARGETS])
            for priority, name in sorted(Priority.choices, reverse=True)
        ]

    def clean(self):
        data = super().clean()
        for weekday in range(7):
            name = f"hours_{weekday}"
            if name in data:
                try:
                    data[name] = _opening_hours(data[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        for priority in Priority.values:
            first = data.get(f"sla_{priority}_first")
            resolution = data.get(f"sla_{priority}_resolution")
            warn = data.get(f"sla_{priority}_warn")
            if first is not None and resolution is not None and resolution < first:
                self.add_error(
                    f"sla_{priority}_resolution",
                    _("解決の目標は初回回答の目標（%(first)s 分）以上にしてください。")
                    % {"first": first},
                )
            if first and warn is not None and warn >= first:
                self.add_error(
                    f"sla_{priority}_warn",
                    _("期限前の警告は初回回答の目標（%(first)s 分）より短くしてください。")
                    % {"first": first},
                )
        return data

    def hours(self) -> dict[str, str]:
        return {str(weekday): self.cleaned_data[f"hours_{weekday}"] for weekday in range(7)}

    def targets(self) -> dict[int, tuple[int, int, int]]:
        return {
            priority: tuple(self.cleaned_data[f"sla_{priority}_{key}"] for key, _l in SLA_TARGETS)
            for priority in Priority.values
        }
