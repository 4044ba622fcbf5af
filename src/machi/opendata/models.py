"""The open data catalogue of one municipality: organisations (the publisher, or the
prefecture whose catalogue is mirrored), datasets, their resources and every version
of a resource's file.

A resource has a stable URL (its UUID) that always answers with its latest version;
each version keeps its own URL. Mirrored (harvested) resources have no file here, only
the publisher's download URL.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Licence(models.TextChoices):
    # CKAN's licence ids (the ones Japanese catalogues use), so clients recognise them.
    CC_BY_4 = "cc-by-4.0", "クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)"
    CC0 = "cc-zero", "CC0 1.0 パブリックドメイン"
    ODC_BY = "odc-by", "Open Data Commons Attribution License"
    GOJ = "gov-jp-2.0", "公共データ利用規約 (第1.0版) / 政府標準利用規約 (第2.0版)"
    OTHER = "other-at", "その他 (表示)"


LICENCE_URLS = {
    Licence.CC_BY_4: "https://creativecommons.org/licenses/by/4.0/",
    Licence.CC0: "https://creativecommons.org/publicdomain/zero/1.0/",
    Licence.ODC_BY: "https://opendatacommons.org/licenses/by/1-0/",
    Licence.GOJ: "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0",
    Licence.OTHER: "",
}


class Frequency(models.TextChoices):
    # The EU frequency vocabulary DCAT-AP names (dct:accrualPeriodicity).
    DAILY = "DAILY", _("毎日")
    WEEKLY = "WEEKLY", _("毎週")
    MONTHLY = "MONTHLY", _("毎月")
    QUARTERLY = "QUARTERLY", _("四半期ごと")
    ANNUAL = "ANNUAL", _("毎年")
    IRREGULAR = "IRREG", _("不定期")
    NEVER = "NEVER", _("更新しない")


class Format(models.TextChoices):
    CSV = "CSV", "CSV"
    JSON = "JSON", "JSON"
    GEOJSON = "GeoJSON", "GeoJSON"
    XLSX = "XLSX", "XLSX"


MEDIA_TYPES = {
    Format.CSV: "text/csv",
    Format.JSON: "application/json",
    Format.GEOJSON: "application/geo+json",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class Organization(models.Model):
    name = models.SlugField(_("識別名"), max_length=100, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("説明"), blank=True)
    url = models.URLField(_("ウェブサイト"), blank=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Empty for the municipality itself; the catalogue's URL for a mirrored publisher.
    harvest_source = models.URLField(_("取得元"), blank=True, max_length=500)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        verbose_name = _("公開者")

    def __str__(self) -> str:
        return self.title


class Tag(models.Model):
    name = models.CharField(_("タグ"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class State(models.TextChoices):
    DRAFT = "draft", _("下書き")
    PUBLISHED = "published", _("公開中")
    UNPUBLISHED = "unpublished", _("公開停止")


class Dataset(models.Model):
    name = models.SlugField(_("識別名"), max_length=100, unique=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("タイトル"), max_length=200)
    notes = models.TextField(_("説明"), blank=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT)
    department = models.CharField(_("担当課"), max_length=100, blank=True)
    contact_name = models.CharField(_("問い合わせ先"), max_length=200, blank=True)
    contact_email = models.EmailField(_("問い合わせ先メール"), blank=True)
    licence = models.CharField(
        _("ライセンス"), max_length=30, choices=Licence.choices, default=Licence.CC_BY_4
    )
    frequency = models.CharField(
        _("更新頻度"), max_length=20, choices=Frequency.choices, default=Frequency.IRREGULAR
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="datasets")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField(db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Mirrored from another catalogue: where it came from (its id and page).
    harvest_id = models.CharField(max_length=100, blank=True)
    harvest_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("データセット")
        indexes = [models.Index(fields=["state", "modified_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.state == State.PUBLISHED

    @property
    def is_mirror(self) -> bool:
        return bool(self.harvest_id)


class Resource(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="resources")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("説明"), blank=True)
    format = models.CharField(_("形式"), max_length=20)
    position = models.PositiveIntegerField(default=0)
    # Only for mirrored resources: the publisher's own download URL.
    external_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["dataset", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="opendata_resource_name")
        ]

    def __str__(self) -> str:
        return self.name


class ResourceVersion(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.BinaryField()
    media_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # What the CSV check found (encoding, rows), shown to staff and in the API.
    encoding = models.CharField(max_length=20, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["resource", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "number"], name="opendata_resource_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} v{self.number}"
