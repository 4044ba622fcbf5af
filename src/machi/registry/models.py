"""住民記録: residents, households and the append-only history of every change.

Names, kana and addresses are stored exactly as given; search goes through the
derived keys in ResidentKey, which the services keep in step with the record.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from machi.registry.fields import JapaneseDateField


class ResidentType(models.TextChoices):
    JAPANESE = "1", _("日本人")
    FOREIGN = "2", _("外国人")


class Status(models.TextChoices):
    RESIDENT = "1", _("住民")
    MOVED_OUT = "2", _("転出")
    DECEASED = "3", _("死亡")
    REMOVED = "9", _("消除")


class Sex(models.TextChoices):
    MALE = "1", _("男")
    FEMALE = "2", _("女")


class KanaStatus(models.TextChoices):
    UNCONFIRMED = "0", _("未確認")
    CONFIRMED = "1", _("公証済")


class PensionCategory(models.TextChoices):
    FIRST = "1", _("第1号")
    SECOND = "2", _("第2号")
    THIRD = "3", _("第3号")


class Household(models.Model):
    household_number = models.CharField(_("世帯番号"), max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("世帯")

    def __str__(self) -> str:
        return self.household_number


class Resident(models.Model):
    atena_number = models.CharField(_("宛名番号"), max_length=20, unique=True)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="members", verbose_name=_("世帯")
    )
    resident_type = models.CharField(_("住民種別"), max_length=1, choices=ResidentType.choices)
    status = models.CharField(
        _("住民状態"), max_length=1, choices=Status.choices, default=Status.RESIDENT, db_index=True
    )
    name = models.CharField(_("氏名"), max_length=100)
    kana = models.CharField(_("氏名フリガナ"), max_length=200, blank=True)
    kana_status = models.CharField(
        _("フリガナの確認"),
        max_length=1,
        choices=KanaStatus.choices,
        default=KanaStatus.UNCONFIRMED,
    )
    former_surname = models.CharField(_("旧氏"), max_length=50, blank=True)
    former_surname_kana = models.CharField(_("旧氏フリガナ"), max_length=100, blank=True)
    alias = models.CharField(_("通称"), max_length=100, blank=True)
    alias_kana = models.CharField(_("通称フリガナ"), max_length=200, blank=True)
    name_alphabet = models.CharField(_("氏名（英字）"), max_length=200, blank=True)
    sex = models.CharField(_("性別"), max_length=1, choices=Sex.choices)
    birth_date = JapaneseDateField(_("生年月日"))
    birth_date_approx = models.DateField(null=True, blank=True, db_index=True)
    relationship = models.CharField(_("続柄"), max_length=50)
    postal_code = models.CharField(_("郵便番号"), max_length=8, blank=True, db_index=True)
    prefecture = models.CharField(_("都道府県"), max_length=10)
    city = models.CharField(_("市区町村"), max_length=50)
    machiaza = models.CharField(_("町字"), max_length=100, db_index=True)
    banchi = models.CharField(_("番地"), max_length=100, blank=True)
    katagaki = models.CharField(_("方書"), max_length=200, blank=True)
    became_resident_on = JapaneseDateField(_("住民となった年月日"), null=True, blank=True)
    settled_on = JapaneseDateField(_("住所を定めた年月日"), null=True, blank=True)
    previous_address = models.CharField(_("前住所"), max_length=300, blank=True)
    destination_address = models.CharField(_("転出先"), max_length=300, blank=True)
    nationality = models.CharField(_("国籍・地域"), max_length=50, blank=True)
    residence_status = models.CharField(_("在留資格"), max_length=100, blank=True)
    my_number = models.CharField(_("個人番号"), max_length=200, blank=True)
    resident_code = models.CharField(_("住民票コード"), max_length=11, blank=True, db_index=True)
    kokuho = models.BooleanField(_("国民健康保険"), default=False)
    kouki = models.BooleanField(_("後期高齢者医療"), default=False)
    kaigo = models.BooleanField(_("介護保険"), default=False)
    pension_category = models.CharField(
        _("国民年金"), max_length=1, choices=PensionCategory.choices, blank=True
    )
    child_allowance = models.BooleanField(_("児童手当"), default=False)
    gaiji = models.JSONField(_("外字の置換"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("住民")

    def __str__(self) -> str:
        return self.atena_number

    @property
    def address(self) -> str:
        parts = [self.prefecture, self.city, self.machiaza, self.banchi]
        text = "".join(parts)
        return f"{text}　{self.katagaki}" if self.katagaki else text


class ResidentKey(models.Model):
    """A search key of a resident: kanji or kana key of the name, a part of it, a former
    surname or an alias. ``raw`` is the text the key was derived from (exact matches)."""

    # No index of its own: the unique (resident, key) index serves lookups by resident.
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="keys", db_index=False
    )
    key = models.CharField(max_length=200)
    raw = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["key", "raw", "resident"], name="registry_key_lookup")]
        constraints = [
            # Written with expressions so that it is a separate unique index on every
            # database (not part of the table on SQLite): the migration import drops it
            # and rebuilds it (checking it) before its transaction commits.
            models.UniqueConstraint(F("resident"), F("key"), name="registry_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class FilingKind(models.TextChoices):
    FILING = "filing", _("届出")
    EX_OFFICIO = "ex_officio", _("職権")
    MIGRATION = "migration", _("移行")


class ResidentHistory(models.Model):
    """One change of a resident record, append-only."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="history")
    change = models.CharField(_("異動の種類"), max_length=40)
    changes = models.JSONField(_("変更内容"), default=dict)
    effective_on = JapaneseDateField(_("異動日"), null=True, blank=True)
    filed_on = models.DateField(_("届出日"), null=True, blank=True)
    filing_kind = models.CharField(_("届出の種類"), max_length=20, choices=FilingKind.choices)
    staff_id = models.BigIntegerField(null=True, blank=True)
    staff_username = models.CharField(_("処理者"), max_length=150, blank=True)
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        ordering = ["resident", "id"]
        verbose_name = _("異動履歴")

    def __str__(self) -> str:
        return f"{self.resident_id} {self.change}"


class NumberSequence(models.Model):
    """The last serial issued for new 宛名番号 / 世帯番号 (locked while issuing)."""

    kind = models.CharField(max_length=20, unique=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind} {self.last}"
