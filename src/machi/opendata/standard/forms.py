from __future__ import annotations

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from machi.opendata.standard.masters import MASTERS

MAX_UPLOAD = 5 * 1024 * 1024


def master_form(dataset: str) -> type[forms.ModelForm]:
    model = MASTERS[dataset].model
    return forms.modelform_factory(model, exclude=["updated_at"], formfield_callback=_formfield)


def _formfield(field: models.Field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV ファイル"),
        help_text=_("標準の列の並びの CSV（UTF-8 または Shift_JIS）。同じ ID の行は更新します。"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("ファイルが大きすぎます（5 MB まで）。"))
        return upload
