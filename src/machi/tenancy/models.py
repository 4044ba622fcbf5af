from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from machi.tenancy.validators import validate_lg_code_field


class Municipality(models.Model):
    """A municipality (tenant). Lives in the control database."""

    lg_code = models.CharField(
        _("全国地方公共団体コード"),
        max_length=6,
        unique=True,
        validators=[validate_lg_code_field],
    )
    name = models.CharField(_("名称"), max_length=100)
    prefecture = models.CharField(_("都道府県"), max_length=10)
    database_url = models.CharField(_("データベース"), max_length=500)
    is_active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lg_code"]
        verbose_name = _("自治体")

    def __str__(self) -> str:
        return f"{self.lg_code} {self.name}"
