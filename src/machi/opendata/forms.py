from __future__ import annotations

from django import forms

from machi.opendata.checks import MAX_BYTES
from machi.opendata.models import Format, Frequency, Licence


class DatasetForm(forms.Form):
    name = forms.SlugField(
        label="識別名 (URL に使う半角英数字)",
        max_length=100,
        help_text="例: population-by-area。あとから変えられません。",
    )
    title = forms.CharField(label="タイトル", max_length=200)
    notes = forms.CharField(label="説明", widget=forms.Textarea(attrs={"rows": 6}), required=False)
    tags = forms.CharField(
        label="タグ (読点「、」かカンマで区切る)", max_length=2000, required=False
    )
    frequency = forms.ChoiceField(
        label="更新頻度", choices=Frequency.choices, initial=Frequency.IRREGULAR
    )
    licence = forms.ChoiceField(
        label="ライセンス", choices=Licence.choices, initial=Licence.CC_BY_4
    )
    department = forms.CharField(label="担当課", max_length=100, required=False)
    contact_name = forms.CharField(label="問い合わせ先", max_length=200, required=False)
    contact_email = forms.EmailField(label="問い合わせ先メール", required=False)

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["name"]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-describedby", f"id_{name}_help")

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags", "")
        return [t.strip() for t in raw.replace("、", ",").split(",") if t.strip()]


class UploadForm(forms.Form):
    resource_name = forms.CharField(
        label="リソース名",
        max_length=200,
        help_text="同じ名前で送ると、そのリソースの新しい版になります (URL は変わりません)。",
    )
    format = forms.ChoiceField(label="形式", choices=Format.choices)
    description = forms.CharField(label="リソースの説明", max_length=2000, required=False)
    file = forms.FileField(
        label="ファイル",
        help_text=(
            "CSV (UTF-8 または Shift_JIS)、JSON、GeoJSON、XLSX。"
            f"{MAX_BYTES // (1024 * 1024)} MB まで。"
        ),
    )
