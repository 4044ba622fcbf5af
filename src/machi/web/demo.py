"""Demo data: two municipalities and a staff member for every role (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts.models import Staff
from machi.accounts.roles import Role
from machi.accounts.services import staff_create
from machi.tenancy.models import Municipality
from machi.tenancy.services import municipality_create

DEMO_PASSWORD = "machi-demo-2026"  # noqa: S105 - printed by `machi demo`; demo only

DEMO_MUNICIPALITIES = [("131016", "千代田区", "chiyoda"), ("271403", "堺市", "sakai")]

# (suffix, display name, memberships, departments allowed to reveal My Numbers)
DEMO_STAFF: list[tuple[str, str, list[tuple[str, str]], frozenset[str]]] = [
    ("clerk", "窓口 花子", [("shimin", Role.COUNTER_CLERK)], frozenset()),
    ("shimin", "市民 一郎", [("shimin", Role.DEPARTMENT_STAFF)], frozenset({"shimin"})),
    ("kosodate", "子育 陽子", [("kosodate", Role.DEPARTMENT_STAFF)], frozenset()),
    (
        "supervisor",
        "監督 次郎",
        [("shimin", Role.SUPERVISOR), ("shimin", Role.DEPARTMENT_STAFF)],
        frozenset(),
    ),
    ("admin", "管理 三郎", [("shimin", Role.MUNICIPALITY_ADMIN)], frozenset()),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    municipality: str
    roles: str
    provisioning_uri: str


def _confirmed_device(staff: Staff) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=staff, name="demo", confirmed=True)
    return device


def _login(staff: Staff, municipality: str, roles: str) -> DemoLogin:
    return DemoLogin(
        username=staff.username,
        display_name=staff.display_name,
        municipality=municipality,
        roles=roles,
        provisioning_uri=_confirmed_device(staff).config_url,
    )


def demo_seed() -> list[DemoLogin]:
    """Create the demo municipalities and staff when missing; return every demo login."""
    logins: list[DemoLogin] = []
    operator = Staff.objects.filter(username="operator").first() or staff_create(
        username="operator",
        display_name="基盤 運用",
        password=DEMO_PASSWORD,
        is_platform_operator=True,
    )
    logins.append(_login(operator, "—", "基盤運用者"))
    for lg_code, name, prefix in DEMO_MUNICIPALITIES:
        municipality = Municipality.objects.filter(lg_code=lg_code).first()
        if municipality is None:
            municipality = municipality_create(lg_code=lg_code, name=name)
        for suffix, display_name, memberships, reveal in DEMO_STAFF:
            username = f"{prefix}-{suffix}"
            staff = Staff.objects.filter(username=username).first() or staff_create(
                username=username,
                display_name=display_name,
                password=DEMO_PASSWORD,
                municipality=municipality,
                memberships=memberships,
                reveal_my_number_departments=reveal,
            )
            roles = "、".join(
                f"{m.department.name}/{m.get_role_display()}"
                for m in staff.memberships.select_related("department")
            )
            logins.append(_login(staff, f"{lg_code} {name}", roles))
    return logins
