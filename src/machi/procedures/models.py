"""A municipality's procedure catalogue override, one row per uploaded version.

The effective catalogue is the default (``catalogue/default.yaml``) merged with the
active version. Versions are never edited or deleted: restoring an older one uploads
its text again as a new version.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CatalogueVersion(models.Model):
    version = models.PositiveIntegerField(_("版"), unique=True)
    text = models.TextField(_("目録ファイル（YAML）"), blank=True)
    sha256 = models.CharField(max_length=64)
    comment = models.CharField(_("変更の説明"), max_length=500, blank=True)
    # Staff live in the control database: keep their id and username, not a foreign key.
    uploaded_by_id = models.BigIntegerField(null=True, blank=True)
    uploaded_by_username = models.CharField(max_length=150, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"],
                condition=models.Q(active=True),
                name="procedures_one_active_catalogue",
            )
        ]

    def __str__(self) -> str:
        return f"catalogue v{self.version}"
