"""コールセンターの設定: default SLA policies in every municipality (new ones through the
migrations, existing ones through the data migration, which never overwrites a row),
and the page that sets opening hours and SLA targets — saved whole or not at all,
only by 自治体管理者 and 監督者 of the municipality, audited, open tickets recomputed."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps
from django.db import connections

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.contact.forms import SLA_DEFAULTS
from machi.contact.models import Channel, ContactSettings, Priority, SlaPolicy, Ticket
from machi.contact.services import sla as sla_services
from machi.contact.services.tickets import TicketError, ticket_create
from machi.japanese.business_time import JST
from machi.procedures.services import catalogue_upload
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/131016/contact/settings/"
MIGRATION = importlib.import_module("machi.contact.migrations.0005_default_sla_policies")
HOURS = {"0": "8:30-17:15", "1": "8:30-17:15", "2": "8:30-17:15", "3": "8:30-17:15",
         "4": "8:30-17:15", "5": "", "6": ""}  # fmt: skip


def J(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


def policies() -> dict[int, tuple[int, int, int]]:
    return {
        p.priority: (p.first_response_minutes, p.resolution_minutes, p.warn_before_minutes)
        for p in SlaPolicy.objects.all()
    }


def stored_hours() -> dict | None:
    row = ContactSettings.objects.filter(pk=1).first()
    return row.hours if row else None


def settings_audits() -> list[tuple[str, str]]:
    return list(
        AuditEntry.objects.filter(action__in=["contact.hours_set", "contact.sla_policy_set"])
        .order_by("id")
        .values_list("action", "object_id")
    )


def form_data(**changes: str) -> dict[str, str]:
    """The page's form as it comes, every field filled with the defaults."""
    data = {f"hours_{d}": text for d, text in HOURS.items()}
    for priority, values in SLA_DEFAULTS.items():
        for key, value in zip(("first", "resolution", "warn"), values, strict=True):
            data[f"sla_{priority}_{key}"] = str(value)
    return {**data, **changes}


def error_of(page: str, field: str) -> str:
    """The text of the message shown next to a field (its ``…_error`` block)."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    assert match, f"no message next to {field}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.fixture
def admin(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))


@pytest.fixture
def supervisor(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.SUPERVISOR))


# ---------------------------------------------------------------- the defaults


def test_a_new_municipality_starts_with_the_default_policies(new_tenants):
    from machi.tenancy.services import municipality_create

    new_tenants.append("131059")
    municipality_create(lg_code="131059", name="文京区")
    with tenant_context("131059"):
        assert policies() == SLA_DEFAULTS
        # and a ticket gets timers from the first one on (中: 525 business minutes)
        ticket = ticket_create(channel=Channel.WEB, subject="ごみ", body="粗大ごみの出し方",
                               actor=None, now=J(2026, 4, 6, 9, 0))  # fmt: skip
        assert ticket.sla_first_response_minutes == 525
        assert ticket.sla_first_response_due_at == J(2026, 4, 7, 9, 0)


def test_the_existing_municipalities_got_the_defaults_too(in_a):
    assert policies() == SLA_DEFAULTS
    assert MIGRATION.DEFAULTS == SLA_DEFAULTS  # what the page offers is what was seeded


def test_the_data_migration_leaves_a_municipality_with_its_own_policies_alone(in_a):
    editor = SimpleNamespace(connection=connections[tenant_alias("131016")])
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(priority=Priority.URGENT, first_response_minutes=30,
                             resolution_minutes=90, warn_before_minutes=5)  # fmt: skip
    MIGRATION.seed(apps, editor)
    assert policies() == {Priority.URGENT: (30, 90, 5)}  # not overwritten, nothing added

    SlaPolicy.objects.all().delete()
    MIGRATION.seed(apps, editor)
    assert policies() == SLA_DEFAULTS
    MIGRATION.seed(apps, editor)  # a second run adds nothing
    assert SlaPolicy.objects.count() == 4


# ---------------------------------------------------------------- the page


def test_the_page_shows_hours_targets_and_closed_days(admin, signed_in):
    catalogue_upload(text="departments: {}\nclosed_days: [2026-06-15, 2025-06-15]\n"
                          "procedures: []\n", actor=admin)  # fmt: skip
    with time_machine.travel(J(2026, 4, 6, 10, 0), tick=False):
        response = signed_in(admin).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>コールセンターの設定</h1>" in page
    assert '<label for="id_hours_0">月曜日:</label>' in page
    assert 'name="hours_0" value="8:30-17:15"' in page
    assert re.search(r'name="hours_5"(?![^>]*value=)', page)  # Saturday: closed
    assert 'name="sla_4_first" value="60"' in page
    assert 'name="sla_2_resolution" value="2625"' in page
    # the targets read as hours and business days (the default day is 525 minutes)
    assert "いまの値: 1 時間" in page
    assert "いまの値: 43 時間 45 分（5 営業日）" in page
    assert "1 営業日は 525 分です" in page
    # the closed days: the municipality's own still to come, and where they are kept
    assert '<time datetime="2026-06-15">' in page and "2025-06-15" not in page
    assert 'href="/131016/procedures/catalogue/"' in page


def test_a_supervisor_sees_where_closed_days_are_kept_without_a_link(supervisor, signed_in):
    page = signed_in(supervisor).get(URL).content.decode()
    assert "休みの日は自治体管理者が手続き目録で変えます。" in page
    assert "/procedures/catalogue/" not in page


def test_the_staff_nav_has_the_page_for_admins_and_supervisors_only(
    admin, supervisor, make_staff, municipality_a, signed_in
):
    for member in (admin, supervisor):
        assert f'href="{URL}"' in signed_in(member).get("/131016/home/").content.decode()
    clerk = make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))
    assert URL not in signed_in(clerk).get("/131016/home/").content.decode()


def test_saving_changes_what_changed_and_audits_it(supervisor, signed_in):
    client = signed_in(supervisor)
    data = form_data(hours_5="９：００～１２：００", sla_4_first="30", sla_4_warn="10")
    response = client.post(URL, data)
    assert response.status_code == 302 and response.url == URL
    assert stored_hours() == {**HOURS, "5": "9:00-12:00"}  # full-width typing normalised
    assert policies() == {**SLA_DEFAULTS, Priority.URGENT: (30, 525, 10)}
    # one entry per change, none for the priorities left as they were
    assert settings_audits() == [("contact.hours_set", ""), ("contact.sla_policy_set", "4")]
    page = client.get(URL).content.decode()
    assert "SLA の目標を保存しました（緊急）" in page
    assert "受付時間を保存し" in page
    assert 'name="hours_5" value="9:00-12:00"' in page


def test_saving_the_page_unchanged_writes_nothing(admin, signed_in):
    client = signed_in(admin)
    assert client.post(URL, form_data()).status_code == 302
    assert stored_hours() is None and settings_audits() == []
    assert "変更はありませんでした。" in client.get(URL).content.decode()


def test_a_lunch_break_and_a_closed_weekday(admin, signed_in):
    data = form_data(hours_2="8:30-12:00、13:00-17:15", hours_4="")
    assert signed_in(admin).post(URL, data).status_code == 302
    assert stored_hours() == {**HOURS, "2": "8:30-12:00,13:00-17:15", "4": ""}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hours_0": "8:30"}, "hours_0", "「8:30」は時間帯として読めません"),
        ({"hours_1": "朝から夕方"}, "hours_1", "8:30-17:15 の形で入力してください"),
        ({"hours_2": "25:00-26:00"}, "hours_2", "時間帯として読めません"),
        ({"hours_3": "17:15-8:30"}, "hours_3", "「17:15-8:30」は終わりが始まりより前です"),
        ({"hours_4": "8:30-12:30,12:00-17:15"}, "hours_4", "時間帯が重なっています"),
        ({"sla_3_resolution": "200"}, "sla_3_resolution",
         "解決の目標は初回回答の目標（240 分）以上にしてください"),
        ({"sla_1_warn": "1050"}, "sla_1_warn", "期限前の警告は初回回答の目標（1050 分）より短く"),
        ({"sla_2_first": "-5"}, "sla_2_first", "0 以上の分数で入力してください"),
        ({"sla_2_first": "abc"}, "sla_2_first", "半角数字の分数で入力してください"),
        ({"sla_2_first": ""}, "sla_2_first", "分数を入力してください（中）"),
        ({"sla_4_resolution": "100001"}, "sla_4_resolution", "100,000 分以下で入力してください"),
    ],
)  # fmt: skip
def test_bad_input_is_shown_next_to_its_field_and_changes_nothing(
    changes, field, message, admin, signed_in
):
    # a valid change elsewhere on the same form is not saved either
    data = form_data(hours_6="9:00-12:00", sla_4_first="45", **changes)
    response = signed_in(admin).post(URL, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in error_of(page, field)
    assert re.search(rf'<input [^>]*aria-invalid="true"[^>]*id="id_{field}"', page) or re.search(
        rf'<input [^>]*id="id_{field}"[^>]*aria-invalid="true"', page
    )
    assert re.search(rf'aria-describedby="id_{field}_error[ "]', page)  # read with the field
    assert page.count(f'id="id_{field}_error"') == 1
    assert "何も保存していません" in page
    assert stored_hours() is None
    assert policies() == SLA_DEFAULTS
    assert settings_audits() == []


def test_a_refusal_half_way_undoes_what_was_saved_before_it(admin, signed_in, monkeypatch):
    """One transaction for the whole form: the services save the hours and 緊急 first;
    a refusal at 低 (a rule the form does not know) takes them back."""
    real = sla_services.sla_policy_set

    def refuse_low(**kwargs):
        if kwargs["priority"] == Priority.LOW:
            raise TicketError("低の目標は受け付けられません。")
        return real(**kwargs)

    monkeypatch.setattr("machi.contact.views.settings.sla_policy_set", refuse_low)
    data = form_data(hours_6="9:00-12:00", sla_4_first="45", sla_1_first="900")
    response = signed_in(admin).post(URL, data)
    assert response.status_code == 400
    assert "低の目標は受け付けられません。" in response.content.decode()
    assert stored_hours() is None
    assert policies() == SLA_DEFAULTS
    assert settings_audits() == []


@pytest.mark.parametrize("role", [Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.WEB_AUTHOR])
def test_other_roles_are_refused(role, in_a, make_staff, municipality_a, signed_in):
    client = signed_in(make_staff(municipality_a, ("shimin", role)))
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(sla_4_first="1")).status_code == 403
    assert policies() == SLA_DEFAULTS and settings_audits() == []


def test_staff_of_another_municipality_are_refused(make_staff, municipality_b, signed_in):
    client = signed_in(make_staff(municipality_b, ("shimin", Role.MUNICIPALITY_ADMIN)))
    assert client.get(URL).status_code in (403, 404)
    assert client.post(URL, form_data(sla_4_first="1")).status_code in (403, 404)
    with tenant_context("131016"):
        assert policies() == SLA_DEFAULTS and stored_hours() is None
    with tenant_context("271403"):
        assert policies() == SLA_DEFAULTS and stored_hours() is None


def test_new_hours_recompute_the_due_moments_of_open_tickets(admin, signed_in):
    # Monday 6 April 2026, 9:00, 中 (first response in 525 business minutes): due on
    # Tuesday 9:00 with the whole Monday open (8:30-17:15) …
    ticket = ticket_create(channel=Channel.WEB, subject="住民票", body="住民票を取りたい",
                           actor=None, now=J(2026, 4, 6, 9, 0))  # fmt: skip
    assert ticket.sla_first_response_due_at == J(2026, 4, 7, 9, 0)
    # … an hour later once Monday has a lunch break (the 90 minutes left go to Tuesday)
    data = form_data(hours_0="8:30-12:00,13:00-17:15")
    assert signed_in(admin).post(URL, data).status_code == 302
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.sla_first_response_due_at == J(2026, 4, 7, 10, 0)
    entry = AuditEntry.objects.get(action="contact.hours_set")
    assert entry.detail["recomputed"] >= 1
