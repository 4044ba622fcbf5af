"""The municipality's ふりがな for やさしい日本語 (machi.japanese.ruby): from which school
grade kanji get readings, and the readings staff corrected."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from machi.japanese.ruby import DEFAULT_GRADE


class RubySetting(models.Model):
    """One row per municipality (its own database); absent means the default grade."""

    grade = models.PositiveSmallIntegerField(
        _("ふりがなを付ける漢字"),
        default=DEFAULT_GRADE,
        validators=[MinValueValidator(0), MaxValueValidator(6)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ふりがなの設定")

    def __str__(self) -> str:
        return f"grade {self.grade}"


class ReadingCorrection(models.Model):
    """A word whose reading SudachiPy gets wrong (place names, 読み癖): applied before
    SudachiPy, on every やさしい日本語 page of the municipality."""

    word = models.CharField(_("語"), max_length=40, unique=True)
    reading = models.CharField(_("読み（ひらがな）"), max_length=80)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["word"]
        verbose_name = _("読みの修正")

    def __str__(self) -> str:
        return f"{self.word}（{self.reading}）"
