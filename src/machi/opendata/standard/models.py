"""Facility masters that staff maintain: 指定緊急避難場所, 公共施設, AED設置箇所.

Fields are named after the standard datasets' items (名称 → name, 名称_カナ → name_kana,
名称_英字 → name_alphabet, 所在地_連結表記 → address, 建物名等(方書) → katagaki …) and
``standard_id`` is the dataset's ID column, unique per municipality. The shelter master is
also what the disaster mode and the facility reservations read: keep these names.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

corporate_number = RegexValidator(r"^\d{13}$", _("法人番号は 13 桁の数字です。"))


class FacilityBase(models.Model):
    standard_id = models.CharField(_("ID"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    name_kana = models.CharField(_("名称（カナ）"), max_length=200, blank=True)
    name_alphabet = models.CharField(_("名称（英字）"), max_length=200, blank=True)
    machiaza_id = models.CharField(_("町字ID"), max_length=7, blank=True)
    address = models.CharField(_("所在地（連結表記）"), max_length=300)
    prefecture = models.CharField(_("所在地（都道府県）"), max_length=10, blank=True)
    city = models.CharField(_("所在地（市区町村）"), max_length=50, blank=True)
    machiaza = models.CharField(_("所在地（町字）"), max_length=100, blank=True)
    banchi = models.CharField(_("所在地（番地以下）"), max_length=100, blank=True)
    katagaki = models.CharField(_("建物名等（方書）"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("緯度"), max_digits=10, decimal_places=7, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("経度"), max_digits=10, decimal_places=7, null=True, blank=True
    )
    phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    extension = models.CharField(_("内線番号"), max_length=20, blank=True)
    email = models.EmailField(_("連絡先メールアドレス"), blank=True)
    contact_form_url = models.URLField(_("連絡先フォームの URL"), blank=True)
    contact_note = models.CharField(_("連絡先備考（その他、SNS など）"), max_length=300, blank=True)
    postal_code = models.CharField(_("郵便番号"), max_length=8, blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    note = models.TextField(_("備考"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["standard_id"]

    def __str__(self) -> str:
        return f"{self.standard_id} {self.name}"


class Shelter(FacilityBase):
    """指定緊急避難場所 (災害対策基本法 第49条の4), with the hazards it is designated for."""

    elevation = models.DecimalField(
        _("標高"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    flood = models.BooleanField(_("洪水"), default=False)
    landslide = models.BooleanField(_("崖崩れ、土石流及び地滑り"), default=False)
    storm_surge = models.BooleanField(_("高潮"), default=False)
    earthquake = models.BooleanField(_("地震"), default=False)
    tsunami = models.BooleanField(_("津波"), default=False)
    large_fire = models.BooleanField(_("大規模な火事"), default=False)
    inland_flood = models.BooleanField(_("内水氾濫"), default=False)
    volcano = models.BooleanField(_("火山現象"), default=False)
    also_designated_shelter = models.BooleanField(_("指定避難所との重複"), default=False)
    capacity = models.PositiveIntegerField(_("想定収容人数"), null=True, blank=True)
    target_associations = models.CharField(_("対象となる町会・自治会"), max_length=300, blank=True)
    image = models.URLField(_("画像"), max_length=500, blank=True)
    image_licence = models.CharField(_("画像のライセンス"), max_length=100, blank=True)

    class Meta(FacilityBase.Meta):
        verbose_name = _("指定緊急避難場所")


class Facility(FacilityBase):
    """公共施設."""

    common_name = models.CharField(_("名称（通称）"), max_length=200, blank=True)
    poi_code = models.CharField(_("POI コード"), max_length=4, blank=True)
    available_days = models.CharField(_("利用可能曜日"), max_length=50, blank=True)
    opens_at = models.CharField(_("開始時間"), max_length=5, blank=True)
    closes_at = models.CharField(_("終了時間"), max_length=5, blank=True)
    availability_note = models.CharField(_("利用可能日時特記事項"), max_length=300, blank=True)
    description = models.TextField(_("説明"), blank=True)
    barrier_free = models.CharField(_("バリアフリー情報"), max_length=300, blank=True)
    owner_corporate_number = models.CharField(
        _("管理団体の法人番号"), max_length=13, blank=True, validators=[corporate_number]
    )
    owner_name = models.CharField(_("管理団体の名称"), max_length=200, blank=True)

    class Meta(FacilityBase.Meta):
        verbose_name = _("公共施設")


class Aed(FacilityBase):
    """AED設置箇所."""

    class Pediatric(models.TextChoices):
        YES = "有", _("有")
        NO = "無", _("無")

    placement = models.CharField(_("設置位置"), max_length=200)
    owner_corporate_number = models.CharField(
        _("設置者の法人番号"), max_length=13, blank=True, validators=[corporate_number]
    )
    owner_name = models.CharField(_("設置者の名称"), max_length=200, blank=True)
    available_days = models.CharField(_("利用可能曜日"), max_length=50, blank=True)
    opens_at = models.CharField(_("開始時間"), max_length=5, blank=True)
    closes_at = models.CharField(_("終了時間"), max_length=5, blank=True)
    availability_note = models.CharField(_("利用可能日時特記事項"), max_length=300, blank=True)
    pediatric = models.CharField(
        _("小児対応設備の有無"), max_length=1, choices=Pediatric.choices, blank=True
    )

    class Meta(FacilityBase.Meta):
        verbose_name = _("AED設置箇所")
