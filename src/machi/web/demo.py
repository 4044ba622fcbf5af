"""Demo data: two municipalities, a staff member for every role and synthetic residents
(idempotent)."""

from __future__ import annotations

import datetime
import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts.models import Staff
from machi.accounts.roles import Role
from machi.accounts.services import staff_create
from machi.japanese import JapaneseDate, age, parse_date
from machi.registry.models import FilingKind, Resident, Status
from machi.registry.services import (
    Address,
    Filing,
    Person,
    resident_move_in,
    resident_move_out,
    resident_record_death,
)
from machi.registry.synthetic import REFERENCE_DATE, generate_rows
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


# ---------------------------------------------------------------------------------------
# Synthetic residents


@dataclass(frozen=True)
class ResidentsSeeded:
    lg_code: str
    created: int  # residents written (0: the municipality already had residents)
    skipped: int  # rows not written (住民状態 9 消除: no service records a removal yet)
    seconds: float


DESTINATIONS = (
    "東京都新宿区西新宿二丁目8番1号", "神奈川県横浜市中区港町1丁目1番地",
    "大阪府大阪市北区中之島1丁目3番20号", "埼玉県さいたま市浦和区常盤6丁目4番4号",
    "千葉県千葉市中央区千葉港1番1号", "福岡県福岡市中央区天神1丁目8番1号",
    "愛知県名古屋市中区三の丸3丁目1番1号", "北海道札幌市中央区北1条西2丁目",
)  # fmt: skip
ABROAD = {"中国": "中国", "韓国": "韓国", "ベトナム": "ベトナム", "フィリピン": "フィリピン",
          "ブラジル": "ブラジル", "ネパール": "ネパール", "米国": "米国"}  # fmt: skip


def _person(row: dict[str, str], birth: JapaneseDate) -> Person:
    """A Person from a synthetic import row, with insurance flags that fit the age."""
    years = age(birth, REFERENCE_DATE) if birth.approx else 0
    foreign = row["住民種別"] == "2"
    return Person(
        name=row["氏名"],
        kana=row["氏名_フリガナ"],
        former_surname=row["旧氏"],
        former_surname_kana=row["旧氏_フリガナ"],
        alias=row["通称"],
        name_alphabet=row["氏名_英字"],
        sex=row["性別"],
        birth_date=birth,
        relationship=row["続柄"],
        resident_type=row["住民種別"],
        nationality=row["国籍"],
        residence_status=("永住者" if years >= 40 else "技術・人文知識・国際業務")
        if foreign
        else "",
        my_number=row["個人番号"],
        kouki=years >= 75,
        kaigo=years >= 65,
        # about a third of the under-65s in 国保 and a third of 20–59 in 第1号 (by the
        # 宛名番号's last digit: deterministic, no extra random draws)
        kokuho=65 <= years < 75 or (years < 65 and row["宛名番号"].endswith(("1", "4", "7"))),
        pension_category=("1" if row["宛名番号"].endswith(("2", "5")) else "2")
        if 20 <= years < 60
        else "",
    )


def _households(rows: Iterable[dict[str, str]]) -> Iterable[list[dict[str, str]]]:
    for _, members in itertools.groupby(rows, key=lambda r: r["世帯番号"]):
        yield list(members)


def _write_household(rows: list[dict[str, str]], rng: random.Random) -> tuple[int, int]:
    """One household through the registry services: 転入 (as migrated records) per date of
    becoming a resident, then 転出 and 死亡 for the rows that say so."""
    first = rows[0]
    address = Address(
        prefecture=first["住所_都道府県"], city=first["住所_市区町村"],
        machiaza=first["住所_町字"], banchi=first["住所_番地"],
        katagaki=first["住所_方書"], postal_code=first["郵便番号"],
    )  # fmt: skip
    kept = [r for r in rows if r["住民状態"] != Status.REMOVED]
    if not kept:
        return 0, len(rows)
    # members who became residents on the same day move in together (householder first)
    groups: dict[datetime.date | None, list[tuple[dict[str, str], Person]]] = {}
    for row in kept:
        became = parse_date(row["住民となった年月日"])
        person = _person(row, parse_date(row["生年月日"]))
        groups.setdefault(became.approx, []).append((row, person))
    household = None
    written: list[tuple[dict[str, str], Resident]] = []
    for members in groups.values():
        residents = resident_move_in(
            persons=[p for _, p in members],
            address=address,
            household=household,
            filing=Filing(effective_on=members[0][0]["住民となった年月日"],
                          filing_kind=FilingKind.MIGRATION),
        )  # fmt: skip
        household = residents[0].household
        written += zip((r for r, _ in members), residents, strict=True)
    today = REFERENCE_DATE.toordinal()
    for row, resident in written:
        if row["住民状態"] not in (Status.MOVED_OUT, Status.DECEASED):
            continue
        settled = parse_date(row["住所を定めた年月日"]).approx or REFERENCE_DATE
        start = settled.toordinal()
        when = datetime.date.fromordinal(start + int(rng.random() * max(0, today - start)))
        filing = Filing(effective_on=when, filing_kind=FilingKind.MIGRATION)
        if row["住民状態"] == Status.DECEASED:
            resident_record_death(resident=resident, filing=filing)
        elif row["国籍"] and rng.random() < 0.6:
            resident_move_out(
                residents=[resident], destination=ABROAD.get(row["国籍"], row["国籍"]),
                filing=filing, to_abroad=True,
            )  # fmt: skip
        else:
            destination = DESTINATIONS[int(rng.random() * len(DESTINATIONS))]
            resident_move_out(residents=[resident], destination=destination, filing=filing)
    return len(written), len(rows) - len(kept)


def demo_residents_seed(
    *,
    lg_code: str,
    count: int = DEMO_RESIDENTS,
    seed: int = 0,
    batch: int = 250,
    progress: Callable[[int, int], None] | None = None,
) -> ResidentsSeeded:
    """``count`` synthetic residents (machi.registry.synthetic) for municipality
    ``lg_code``, written through the registry services as migrated records; nothing when
    the municipality already has residents. ``progress(done, count)`` is called after
    every batch of households (one transaction each)."""
    started = time.perf_counter()
    created = skipped = 0
    with tenant_context(lg_code) as alias:
        if count <= 0 or Resident.objects.exists():
            return ResidentsSeeded(lg_code, 0, 0, time.perf_counter() - started)
        rng = random.Random(seed)
        households = _households(generate_rows(count=count, lg_code=lg_code, seed=seed))
        while chunk := list(itertools.islice(households, batch)):
            with transaction.atomic(using=alias):
                for rows in chunk:
                    done, not_done = _write_household(rows, rng)
                    created += done
                    skipped += not_done
            if progress is not None:
                progress(created + skipped, count)
    return ResidentsSeeded(lg_code, created, skipped, time.perf_counter() - started)
