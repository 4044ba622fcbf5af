"""Days staff know will be busier or quieter (給付金の締切, a 選挙 …): the forecast applies
their expected effect on top of the calendar."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

EFFECT_MIN, EFFECT_MAX = -90, 500  # percent


class ForecastEvent(models.Model):
    day = models.DateField(_("日付"))
    name = models.CharField(_("行事・締切の名前"), max_length=100)
    effect_percent = models.IntegerField(
        _("見込む増減（％）"),
        validators=[MinValueValidator(EFFECT_MIN), MaxValueValidator(EFFECT_MAX)],
        help_text=_("いつもの日より何％多いか（少ないときは負の数）。"),
    )
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    # Staff live in the control database: their id and a copy of the username, no FK.
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_username = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("予測に使う行事")
        ordering = ["day", "id"]
        indexes = [models.Index(fields=["day"], name="forecast_event_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.name} ({self.effect_percent:+d}%)"
