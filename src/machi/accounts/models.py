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
    email = models.EmailField(
        _("メールアドレス"),
        blank=True,
        help_text=_("パスワードや二要素認証の再設定を本人に知らせる宛先。"),
    )
    # Set by a password set through a reset link or an approved MFA reset; the next
    # completed sign-in is marked ``after_reset`` in the audit log and clears it.
    sign_in_after_reset = models.BooleanField(default=False)

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


class PasswordResetLink(models.Model):
    """A one-time link that lets its holder set the staff member's password (only that:
    the second factor stays). Only the token's SHA-256 is stored."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="password_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["staff", "used_at"], name="password_link_staff")]

    def __str__(self) -> str:
        return f"password link {self.pk} of {self.staff_id}"


class MfaResetRequest(models.Model):
    """An administrator's request to remove a staff member's second factor; it takes
    effect only when a different administrator of the municipality approves it."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="mfa_reset_requests")
    requested_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A request from the command line has no requesting staff member.
    requested_via = models.CharField(max_length=10, default="web")
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"MFA reset request {self.pk} of {self.staff_id}"


class NoticeKind(models.TextChoices):
    PASSWORD_LINK_CREATED = (
        "password_link_created",
        _("管理者があなたのパスワード再設定リンクを発行しました。"),
    )
    PASSWORD_CHANGED = "password_changed", _("パスワード再設定リンクでパスワードが変更されました。")
    MFA_RESET_REQUESTED = (
        "mfa_reset_requested",
        _("管理者があなたの二要素認証の再設定を申請しました（別の管理者の承認で実行されます）。"),
    )
    MFA_RESET_DONE = (
        "mfa_reset_done",
        _("あなたの二要素認証の登録が取り消されました。次回ログイン時に再登録します。"),
    )


class StaffNotice(models.Model):
    """A notice to a staff member about their own account, shown at their next sign-in
    (and mailed when they have an address)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=40, choices=NoticeKind.choices)
    created_at = models.DateTimeField()
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["staff", "seen_at"], name="staff_notice_unseen")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.staff_id}"
