"""Demo data: two municipalities, a staff member for every role and synthetic residents
(idempotent)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import operator
import time
from dataclasses import dataclass
from functools import reduce

from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts.models import Staff
from machi.accounts.roles import Role
from machi.accounts.services import staff_create
from machi.announce.demo import demo_announcements_seed
from machi.board.demo import demo_board_seed
from machi.localevents.demo import demo_events_seed
from machi.opendata.demo import demo_opendata_seed
from machi.opendata.standard.demo import standard_demo_seed
from machi.registry.migration import HEADER, registry_import
from machi.registry.models import Resident
from machi.registry.synthetic import REFERENCE_DATE, generate_rows
from machi.site.demo import demo_site_seed
from machi.tenancy.context import tenant_context
from machi.tenancy.models import Municipality
from machi.tenancy.services import municipality_create

DEMO_PASSWORD = "machi-demo-2026"  # noqa: S105 - printed by `machi demo`; demo only

DEMO_MUNICIPALITIES = [("131016", "千代田区", "chiyoda"), ("271403", "堺市", "sakai")]
DEMO_RESIDENTS = 10_000  # synthetic residents per demo municipality (`machi demo --residents`)

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
    ("doro", "道路 四郎", [("doro", Role.DEPARTMENT_STAFF)], frozenset()),
    ("koho", "広報 五月", [("koho", Role.WEB_AUTHOR), ("koho", Role.MODERATOR)], frozenset()),
    (
        "koho-lead",
        "広報 六郎",
        [("koho", Role.WEB_APPROVER), ("koho", Role.WEB_AUTHOR), ("koho", Role.MODERATOR)],
        frozenset(),
    ),
    ("bosai", "防災 七海", [("bosai", Role.WEB_AUTHOR), ("bosai", Role.WEB_APPROVER)], frozenset()),
    ("security", "情報 八重", [("kikaku", Role.SECURITY_OFFICER)], frozenset()),
]

# One 町丁目 per demo municipality as a polygon (longitude, latitude; the block around
# the office, drawn roughly), with a rule that sends its street lights to 道路課.
DEMO_AREAS: dict[str, tuple[str, list[list[float]]]] = {
    "131016": (
        "千代田区丸の内一丁目",
        [
            [139.7605, 35.6795],
            [139.7680, 35.6795],
            [139.7680, 35.6870],
            [139.7605, 35.6870],
            [139.7605, 35.6795],
        ],
    ),
    "271403": (
        "堺市堺区南瓦町",
        [
            [135.4790, 34.5705],
            [135.4860, 34.5705],
            [135.4860, 34.5760],
            [135.4790, 34.5760],
            [135.4790, 34.5705],
        ],
    ),
}


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
    demo_hash = make_password(DEMO_PASSWORD)  # one hash for every demo login
    operator = Staff.objects.filter(username="operator").first() or staff_create(
        username="operator",
        display_name="基盤 運用",
        password=DEMO_PASSWORD,
        password_hash=demo_hash,
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
                password_hash=demo_hash,
                municipality=municipality,
                memberships=memberships,
                reveal_my_number_departments=reveal,
            )
            roles = "、".join(
                f"{m.department.name}/{m.get_role_display()}"
                for m in staff.memberships.select_related("department")
            )
            logins.append(_login(staff, f"{lg_code} {name}", roles))
        _demo_area_seed(lg_code)
        _demo_faq_seed(lg_code)
        demo_events_seed(lg_code)
        demo_opendata_seed(lg_code)
        standard_demo_seed(lg_code=lg_code)
        demo_site_seed(lg_code)
        demo_board_seed(lg_code)
        demo_announcements_seed(lg_code)
    return logins


def _demo_faq_seed(lg_code: str) -> None:
    """The default FAQ answers, so the contact center and the public FAQ have content."""
    from machi.contact.services.faq import faq_load_default

    with tenant_context(lg_code):
        faq_load_default()


def _demo_area_seed(lg_code: str) -> None:
    from machi.requests.models import Area, Category
    from machi.requests.services import area_create, routing_rule_set

    name, ring = DEMO_AREAS[lg_code]
    with tenant_context(lg_code):
        if Area.objects.filter(name=name).exists():
            return
        area = area_create(
            name=name,
            kind="chome",
            geometry=json.dumps({"type": "Polygon", "coordinates": [ring]}),
        )
        routing_rule_set(
            department="doro", category=Category.objects.get(code="streetlight"), area=area
        )


# ---------------------------------------------------------------------------------------
# Synthetic residents


@dataclass(frozen=True)
class ResidentsSeeded:
    lg_code: str
    created: int  # residents written (0: the municipality already had residents)
    rejected: int  # rows the import refused (none expected: the generator's rows are valid)
    seconds: float


def demo_residents_seed(
    *, lg_code: str, count: int = DEMO_RESIDENTS, seed: int = 0
) -> ResidentsSeeded:
    """``count`` synthetic residents (machi.registry.synthetic) for municipality
    ``lg_code``, written the way a municipality's legacy data arrives: through the
    migration import (one transaction, history rows marked migration, one outbox
    event). Nothing when the municipality already has residents."""
    started = time.perf_counter()
    with tenant_context(lg_code):
        if count <= 0 or Resident.objects.exists():
            return ResidentsSeeded(lg_code, 0, 0, time.perf_counter() - started)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(generate_rows(count=count, lg_code=lg_code, seed=seed))
        result = registry_import(
            stream=io.BytesIO(text.getvalue().encode("utf-8")),
            file_name=f"demo-{lg_code}.csv",
            function="machi demo",
        )
        _insurance_flags_set()
    return ResidentsSeeded(
        lg_code, result.created, result.rejected_rows, time.perf_counter() - started
    )


def _insurance_flags_set() -> None:
    """Flags the migration layout does not carry, set to fit each resident's age so the
    counter demo has insured residents: 後期高齢者医療 from 75, 介護保険 from 65, 国保 for
    65–74 and about a third of the younger ones, 第1号 for about a third of 20–59
    (chosen by the atena number's last digit: deterministic)."""

    def born_by(years: int) -> datetime.date:  # age >= years on the reference date
        return REFERENCE_DATE.replace(year=REFERENCE_DATE.year - years)

    def last_digit(digits: str) -> Q:
        return reduce(operator.or_, (Q(atena_number__endswith=d) for d in digits))

    born = "birth_date_approx"
    Resident.objects.filter(**{f"{born}__lte": born_by(75)}).update(kouki=True)
    Resident.objects.filter(**{f"{born}__lte": born_by(65)}).update(kaigo=True)
    Resident.objects.filter(
        Q(**{f"{born}__gt": born_by(75), f"{born}__lte": born_by(65)})
        | (Q(**{f"{born}__gt": born_by(65)}) & last_digit("147"))
    ).update(kokuho=True)
    Resident.objects.filter(
        Q(**{f"{born}__gt": born_by(60), f"{born}__lte": born_by(20)}) & last_digit("25")
    ).update(pension_category="1")
