"""Residents' pre-applications (事前申請): a navigator input saved under a short code.

A resident answers the navigator's questions on the public page ``/<lg>/preapply/``
(no login, no names) and may take a short code (and its QR code) to the counter,
where the intake screen reads the saved input back. Nothing here is personal data:
the input holds the event, dates of birth and yes/no answers, with the persons
renamed ``p1``, ``p2`` … (see ``services.preapplications``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The code's characters: upper-case letters and digits that cannot be mistaken for
#: one another (no 0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, U/V). 21 characters, 8 of them:
#: 21⁸ ≈ 3.8 × 10¹⁰ codes (about 35 bits).
CODE_ALPHABET = "ACEFGHJKMNPRTWXY34679"
CODE_LENGTH = 8


class PreApplication(models.Model):
    code = models.CharField(_("番号"), max_length=CODE_LENGTH, unique=True)
    navigator_input = models.JSONField(_("ナビゲーターの入力"))
    created_at = models.DateTimeField(_("発行時刻"))
    expires_at = models.DateTimeField(_("有効期限"), db_index=True)
    used_at = models.DateTimeField(_("窓口で使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("事前申請")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        """The code as printed, in two groups of four: ``ACEF-GH34``."""
        half = len(self.code) // 2
        return f"{self.code[:half]}-{self.code[half:]}"

    @property
    def event_type(self) -> str:
        return self.navigator_input["event"]["type"]

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class PreApplicationIssue(models.Model):
    """One code issued on the public page, for the limit of codes per client address and
    hour. The address is kept only as a keyed hash (HMAC-SHA256 under the secret key:
    an IPv4 address could be found back from a plain hash); rows older than the limit's
    window are pruned by the worker (``preapplication_issues_prune``)."""

    client_hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField()

    class Meta:
        indexes = [
            # the codes of one address in the last hour
            models.Index(fields=["client_hash", "issued_at"], name="counter_preapply_issue"),
        ]

    def __str__(self) -> str:
        return f"{self.client_hash[:8]}… {self.issued_at.isoformat()}"
