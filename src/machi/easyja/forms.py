from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.japanese.ruby import GRADES

GRADE_CHOICES = [
    (0, _("すべての漢字")),
    (1, _("小学1年生で習う漢字より上")),
    (2, _("小学2年生までに習う漢字より上")),
    (3, _("小学3年生までに習う漢字より上")),
    (4, _("小学4年生までに習う漢字より上")),
    (5, _("小学5年生までに習う漢字より上")),
    (6, _("小学校で習う漢字（教育漢字）以外だけ")),
]
assert [grade for grade, _label in GRADE_CHOICES] == list(GRADES)


class GradeForm(forms.Form):
    grade = forms.TypedChoiceField(
        label=_("ふりがなを付ける漢字"), choices=GRADE_CHOICES, coerce=int,
        help_text=_("学年は文部科学省の学年別漢字配当表によります。"),
    )  # fmt: skip


class CorrectionForm(forms.Form):
    word = forms.CharField(label=_("語"), max_length=40, help_text=_("例: 丸の内"))
    reading = forms.CharField(
        label=_("読み（ひらがな）"), max_length=80, help_text=_("例: まるのうち")
    )


class PreviewForm(forms.Form):
    text = forms.CharField(
        label=_("試す文"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
