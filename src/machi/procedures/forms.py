"""The administrator's upload form for a new catalogue version."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.procedures.services import MAX_CATALOGUE_BYTES


class CatalogueUploadForm(forms.Form):
    text = forms.CharField(
        label=_("目録ファイルの内容（YAML）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code"}),
        help_text=_("ファイルを選ぶ代わりに、ここに貼り付けることもできます。"),
    )
    file = forms.FileField(
        label=_("目録ファイル"),
        required=False,
        help_text=_("UTF-8 の YAML または JSON ファイル（1 MB まで）"),
    )
    comment = forms.CharField(
        label=_("変更の説明"),
        max_length=500,
        required=True,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_CATALOGUE_BYTES:
                raise forms.ValidationError(_("目録ファイルが大きすぎます（上限 1 MB）。"))
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    _("目録ファイルは UTF-8 で保存してください。")
                ) from None
        elif not (data.get("text") or "").strip():
            raise forms.ValidationError(_("ファイルを選ぶか、内容を貼り付けてください。"))
        return data
