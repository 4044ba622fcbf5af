"""Forms of the staff screens of requests: they parse input; the services validate it
and refuse with a message (shown as given), so texts a service checks are not required
here (the service's message is the clearer one)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.requests.models import AttributeType, Status
from machi.requests.services import MAX_ANSWER

# 重複 is recorded by merging (the original is needed), never set by hand.
SETTABLE_STATUSES = [(v, label) for v, label in Status.choices if v != Status.DUPLICATE]


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("回答・メモ"),
        required=False,
        max_length=MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    visibility = forms.ChoiceField(
        label=_("公開"),
        choices=[
            ("public", _("公開の回答（公開ページに表示）")),
            ("internal", _("内部メモ（職員のみ）")),
        ],
        initial="internal",
        widget=forms.RadioSelect,
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("新しい状態"), choices=SETTABLE_STATUSES)
    text = forms.CharField(
        label=_("公開のお知らせ（任意）"),
        required=False,
        max_length=MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MergeForm(forms.Form):
    original = forms.CharField(
        label=_("元の要望（受付番号）"), max_length=20, help_text=_("例: ABCD-EFGH-JK")
    )
    text = forms.CharField(
        label=_("公開のお知らせ（任意）"),
        required=False,
        max_length=MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RerouteForm(forms.Form):
    department = forms.ChoiceField(label=_("振り替え先の担当課"), choices=())
    reason = forms.CharField(
        label=_("振り替えの理由"),
        required=False,
        max_length=MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, departments: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = departments


class HideForm(forms.Form):
    reason = forms.CharField(label=_("非公開にする理由"), required=False, max_length=200)


class ResponseTemplateForm(forms.Form):
    title = forms.CharField(label=_("件名"), max_length=100)
    body = forms.CharField(
        label=_("本文"), max_length=MAX_ANSWER, widget=forms.Textarea(attrs={"rows": 5})
    )
    category = forms.ChoiceField(label=_("分類（任意）"), choices=(), required=False)

    def __init__(self, *args, categories: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("すべての分類")), *categories]


class CategoryForm(forms.Form):
    code = forms.CharField(label=_("分類コード"), max_length=40)
    name = forms.CharField(label=_("分類名"), max_length=100)
    description = forms.CharField(
        label=_("説明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    department = forms.ChoiceField(label=_("担当課"), choices=(), required=False)
    public_by_default = forms.BooleanField(label=_("公開（既定）"), required=False)
    expected_response_days = forms.IntegerField(label=_("回答の目安（日）"))
    is_active = forms.BooleanField(label=_("受付中"), required=False)
    order = forms.IntegerField(label=_("表示順"), initial=0)

    def __init__(self, *args, departments: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("（振り分け待ち）")), *departments]


class AttributeForm(forms.Form):
    code = forms.CharField(label=_("項目コード"), max_length=40)
    description = forms.CharField(label=_("質問"), max_length=200)
    datatype = forms.ChoiceField(label=_("種類"), choices=AttributeType.choices)
    required = forms.BooleanField(label=_("必須"), required=False)
    values = forms.CharField(
        label=_("選択肢（1行に「キー:表示名」）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    order = forms.IntegerField(label=_("表示順"), initial=0)


class AreaUploadForm(forms.Form):
    file = forms.FileField(label=_("GeoJSON ファイル（FeatureCollection）"))
    kind = forms.ChoiceField(
        label=_("種類"), choices=[("chome", _("町丁目")), ("polygon", _("区域（GeoJSON）"))]
    )
    name_property = forms.CharField(label=_("名前の属性"), initial="name", max_length=40)


class RuleForm(forms.Form):
    category = forms.ChoiceField(label=_("分類"), choices=(), required=False)
    area = forms.ChoiceField(label=_("区域"), choices=(), required=False)
    department = forms.ChoiceField(label=_("担当課"), choices=())

    def __init__(
        self,
        *args,
        categories: list[tuple[str, str]],
        areas: list[tuple[str, str]],
        departments: list[tuple[str, str]],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("すべての分類")), *categories]
        self.fields["area"].choices = [("", _("すべての区域")), *areas]
        self.fields["department"].choices = departments
