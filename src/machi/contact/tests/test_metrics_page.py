"""The contact center's metrics: figures checked against tickets made here at known
times, the page's tables and charts, CSV equal to the table, the date range, a bounded
number of queries, and only supervisors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.accounts.roles import Role
from machi.contact.models import Channel, Priority, TicketState
from machi.contact.selectors import contact_metrics
from machi.contact.services.faq import faq_load_default, faq_search_log
from machi.contact.services.sla import sla_policy_set
from machi.contact.services.tickets import ticket_create, ticket_reply, ticket_state_change
from machi.japanese.business_time import JST
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/131016/contact/metrics/"
RANGE = {"since": "2026-04-06", "until": "2026-04-19"}


def J(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.fixture
def supervisor(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.SUPERVISOR))


@pytest.fixture
def known(in_a, make_staff, municipality_a, supervisor):
    """Tuesday 7 April 2026 (a working day, open 8:30–17:15), first response due in 60
    business minutes:

    | no | channel | group  | replies           | first        | resolution | FCR |
    | 1  | phone   | 市民課 | 9:10 (解決)        | 10           | 10         | yes |
    | 2  | phone   | 市民課 | 9:30, 10:30 (解決) | 30           | 90         | no  |
    | 3  | web     | —      | 11:00             | 120 (breach) | —          | —   |
    | 4  | phone   | 市民課 | merged into 1 on 8 April: left out                 |

    All created at 9:00.
    """
    faq_load_default()
    agent = make_staff(municipality_a, ("shimin", "counter_clerk"))
    sla_policy_set(priority=Priority.NORMAL, first_response_minutes=60, resolution_minutes=525,
                   warn_before_minutes=0, actor=supervisor)  # fmt: skip
    common = {"subject": "住民票", "body": "住民票を取りたい", "now": J(2026, 4, 7, 9, 0)}
    staffed = {**common, "channel": Channel.PHONE, "actor": agent, "group": "shimin",
               "group_name": "市民課", "topic": "koseki-juminhyo"}  # fmt: skip
    one = ticket_create(**staffed)
    ticket_reply(ticket=one, body="窓口で請求できます。", actor=agent, state=TicketState.RESOLVED,
                 now=J(2026, 4, 7, 9, 10))  # fmt: skip
    two = ticket_create(**staffed)
    ticket_reply(ticket=two, body="確認します。", actor=agent, now=J(2026, 4, 7, 9, 30))
    ticket_reply(ticket=two, body="請求できます。", actor=agent, state=TicketState.RESOLVED,
                 now=J(2026, 4, 7, 10, 30))  # fmt: skip
    three = ticket_create(**common, channel=Channel.WEB, actor=None)
    ticket_reply(ticket=three, body="お待たせしました。", actor=agent, now=J(2026, 4, 7, 11, 0))
    from machi.contact.services.tickets import ticket_merge

    four = ticket_create(**{**staffed, "now": J(2026, 4, 8, 9, 0)})
    ticket_merge(ticket=four, into=one, actor=agent, now=J(2026, 4, 8, 9, 5))
    # searches: two residents' with answers (one followed by ticket 3), one without, one agent's
    deflected = faq_search_log(query="住民票", source="resident", result_ids=[1])
    followed = faq_search_log(query="住民票を取りたい", source="resident", result_ids=[1])
    faq_search_log(query="xyzzy", source="resident", result_ids=[])
    faq_search_log(query="住民票", source="agent", result_ids=[1])
    from machi.contact.models import FaqSearch

    FaqSearch.objects.filter(pk=followed.pk).update(ticket=three)
    FaqSearch.objects.update(created_at=J(2026, 4, 7, 8, 50))
    return {"deflected": deflected}


def test_the_figures(known):
    m = contact_metrics(since=J(2026, 4, 6), until=J(2026, 4, 20))
    phone, web, total = m["channels"]["phone"], m["channels"]["web"], m["total"]
    assert (phone["tickets"], phone["resolved"], phone["first_contact_resolutions"]) == (2, 2, 1)
    assert phone["first_contact_resolution_rate"] == 0.5
    assert phone["first_response_minutes"] == {"median": 20.0, "p90": 28.0, "count": 2}
    assert phone["resolution_minutes"] == {"median": 50.0, "p90": 82.0, "count": 2}
    assert (web["tickets"], web["resolved"], web["first_contact_resolution_rate"]) == (1, 0, None)
    assert (web["first_response_breaches"], web["resolution_breaches"]) == (1, 0)
    assert total["tickets"] == 3  # the merged duplicate is left out
    assert total["first_response_minutes"]["median"] == 30.0
    assert total["first_response_minutes"]["p90"] == pytest.approx(102.0)
    assert total["breaches"] == 1
    assert m["groups"]["shimin"]["name"] == "市民課" and m["groups"]["shimin"]["tickets"] == 2
    assert m["groups"][""]["tickets"] == 1
    assert m["weeks"] == [dt.date(2026, 4, 6), dt.date(2026, 4, 13)]
    by_topic = {t["code"]: (t["name"], t["weeks"]) for t in m["topics"]}
    assert by_topic == {"koseki-juminhyo": ("住民票・戸籍・証明書", [2, 0]), "": ("", [1, 0])}
    assert (m["faq_searches"], m["faq_searches_answered"], m["faq_deflected"]) == (3, 2, 1)
    assert m["faq_searches_unanswered"] == 1 and m["faq_deflection_rate"] == 0.5
    # another period: nothing
    empty = contact_metrics(since=J(2026, 5, 1), until=J(2026, 5, 8))
    assert empty["total"]["tickets"] == 0 and empty["faq_deflection_rate"] is None


class _Tables(HTMLParser):
    """The page's tables as lists of rows of cell texts, by id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs).get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("th", "td") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_page_tables_charts_and_csv(known, supervisor, signed_in):
    client = signed_in(supervisor)
    page = client.get(URL, RANGE)
    assert page.status_code == 200
    html = page.content.decode()
    parser = _Tables()
    parser.feed(html)
    fcr = parser.tables["table-fcr"]
    assert fcr[0] == ["受付経路・担当課", "件数", "解決済み", "一次解決", "一次解決率"]
    assert ["電話", "2", "2", "1", "50.0%"] in fcr and ["合計", "3", "2", "1", "50.0%"] in fcr
    times = parser.tables["table-times"]
    assert ["電話", "20", "28", "50", "82"] in times
    assert ["ウェブ", "120", "120", "—", "—"] in times
    assert ["ウェブ", "1", "1", "0"] in parser.tables["table-breaches"]
    assert parser.tables["table-deflection"][1] == ["住民の検索", "2", "1", "1", "50.0%"]
    topics = parser.tables["table-topics"]
    assert topics[0] == ["週（月曜日から）", "住民票・戸籍・証明書", "未分類", "合計"]
    assert topics[1][1:] == ["2", "1", "3"] and topics[2][1:] == ["0", "0", "0"]
    assert html.count('role="img"') == 5  # a chart for each table
    for key in ("fcr", "times", "breaches", "deflection", "topics"):
        download = client.get(URL, {**RANGE, "download": key})
        assert download.status_code == 200
        assert download["Content-Type"] == "text/csv; charset=utf-8"
        assert f"contact-{key}-2026-04-06-2026-04-19.csv" in download["Content-Disposition"]
        text = download.content.decode("utf-8-sig")
        assert list(csv.reader(io.StringIO(text))) == parser.tables[f"table-{key}"]
    assert client.get(URL, {**RANGE, "download": "nothing"}).status_code == 404


def test_the_default_range_is_the_last_four_weeks(known, supervisor, signed_in, time_machine):
    time_machine.move_to(J(2026, 4, 10, 12, 0), tick=False)
    html = signed_in(supervisor).get(URL).content.decode()
    assert 'value="2026-03-14"' in html and 'value="2026-04-10"' in html
    assert '<td class="num">3</td>' in html


def test_a_bad_range_names_the_field(known, supervisor, signed_in):
    client = signed_in(supervisor)
    backwards = client.get(URL, {"since": "2026-04-19", "until": "2026-04-06"})
    assert backwards.status_code == 400
    assert "終了日は開始日より後の日にしてください。" in backwards.content.decode()
    assert 'aria-invalid="true"' in backwards.content.decode()
    wrong = client.get(URL, {"since": "4月1日"})
    assert wrong.status_code == 400
    assert "開始日を 2026-04-01 の形で入力してください。" in wrong.content.decode()
    too_long = client.get(URL, {"since": "2025-01-01", "until": "2026-04-06"})
    assert too_long.status_code == 400


def test_queries_do_not_grow_with_tickets(known, supervisor, signed_in, make_staff,
                                          municipality_a):  # fmt: skip
    client = signed_in(supervisor)

    def count() -> int:
        with CaptureQueriesContext(connections[tenant_alias("131016")]) as captured:
            assert client.get(URL, RANGE).status_code == 200
        return len(captured)

    before = count()
    agent = make_staff(municipality_a, ("zeimu", "department_staff"))
    for hour in (13, 14, 15):
        ticket = ticket_create(channel=Channel.PHONE, subject="税", body="税の質問", actor=agent,
                               group="zeimu", group_name="税務課", topic="zei",
                               now=J(2026, 4, 14, hour))  # fmt: skip
        ticket_state_change(ticket=ticket, state=TicketState.RESOLVED, actor=agent,
                            now=J(2026, 4, 14, hour, 30))  # fmt: skip
    assert count() == before <= 4


def test_only_supervisors(known, make_staff, municipality_a, municipality_b, signed_in):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    assert signed_in(clerk).get(URL).status_code == 403
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    assert signed_in(admin).get(URL).status_code == 403
    other = make_staff(municipality_b, ("shimin", Role.SUPERVISOR))
    assert signed_in(other).get(URL).status_code in (403, 404)
    with tenant_context("271403"):
        assert signed_in(other).get("/271403/contact/metrics/").status_code == 200
