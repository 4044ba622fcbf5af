from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from machi.accounts.roles import Role
from machi.tenancy.models import Municipality


class StaffManager(BaseUserManager):
    use_in_migrations = True

    def get_queryset(self) -> models.QuerySet:
        # Every request loads the signed-in staff member: fetch what the navigation needs.
        return super().get_queryset().select_related("municipality").prefetch_related("memberships")

    def get_by_natural_key(self, username: str) -> Staff:
        return self.get(username=username)


class Staff(AbstractBaseUser):
    """A staff member of exactly one municipality, or a platform operator (no municipality)."""

    username = models.CharField(
        _("ユーザー名"), max_length=150, unique=True, validators=[UnicodeUsernameValidator()]
    )
    display_name = models.CharField(_("氏名"), max_length=100)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("自治体"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    is_platform_operator = models.BooleanField(_("基盤運用者"), default=False)
    is_active = models.BooleanField(_("有効"), default=True)
    language = models.CharField(
        _("表示言語"), max_length=8, choices=[("ja", "日本語"), ("en", "English")], default="ja"
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = StaffManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("職員")
        constraints = [
            models.CheckConstraint(
                name="staff_municipality_xor_operator",
                condition=(
                    models.Q(is_platform_operator=True, municipality__isnull=True)
                    | models.Q(is_platform_operator=False, municipality__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def roles(self) -> frozenset[str]:
        """Every role held in any department (memberships are prefetched by the middleware)."""
        return frozenset(m.role for m in self.memberships.all())

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class Department(models.Model):
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="departments"
    )
    code = models.SlugField(_("課コード"), max_length=40)
    name = models.CharField(_("課名"), max_length=100)

    class Meta:
        ordering = ["municipality", "id"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "code"], name="department_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff member's role in one department of their municipality."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("役割"), max_length=30, choices=Role.choices)
    can_reveal_my_number = models.BooleanField(_("個人番号の表示"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "department", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.department} {self.role}"
