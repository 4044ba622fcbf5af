"""The staff screens of the registry: search, resident, household, My Number, changes."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.linkage.models import OutboxEvent
from machi.registry.models import Resident, ResidentHistory, Status
from machi.registry.tests.conftest import ADDRESS, person
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

MY_NUMBER = "123456789018"  # a valid check digit (DOMAIN.md §2)
BASE = "/131016/residents/"


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))


@pytest.fixture
def shimin(make_staff, municipality_a):
    return make_staff(
        municipality_a,
        ("shimin", Role.DEPARTMENT_STAFF),
        reveal_my_number_departments=frozenset({"shimin"}),
    )


@pytest.fixture
def people(move_in):
    """Two households: 髙橋 (householder, wife with a My Number, a child) and 齋藤."""
    takahashi = move_in(
        [
            person("髙橋 一郎", "タカハシ イチロウ", birth="昭和55年5月10日"),
            person(
                "髙橋 花子",
                "タカハシ ハナコ",
                birth="1982-03-03",
                relationship="妻",
                sex="2",
                my_number=MY_NUMBER,
            ),
            person("髙橋 太郎", "タカハシ タロウ", birth="2015-07-07", relationship="子"),
        ]
    )
    (saito,) = move_in([person("齋藤 学", "サイトウ マナブ", birth="1985-04-04")])
    return {r.name: r for r in [*takahashi, saito]}


def audit_actions(**filters) -> list[str]:
    with tenant_context("131016"):
        return list(AuditEntry.objects.filter(**filters).values_list("action", flat=True))


def fresh(resident: Resident) -> Resident:
    with tenant_context("131016"):
        return Resident.objects.get(pk=resident.pk)


# --- search ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("高橋", "異体字"),  # the record says 髙橋
        ("タカハシ", "完全一致"),  # the reading as recorded
        ("たかはし", "読み"),
        ("たかはし いちろう", "読み"),
        ("ｻｲﾄｰ", "読み"),
        ("斎藤", "異体字"),
    ],
)
def test_clerk_finds_residents_by_variant_or_kana(people, clerk, signed_in, query, match):
    client = signed_in(clerk)
    page = client.get(BASE, {"q": query})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>" in html and html.count("<h1") == 1
    expected = "齋藤 学" if query in ("ｻｲﾄｰ", "斎藤") else "髙橋 一郎"
    assert expected in html
    assert match in html
    resident = people[expected]
    assert f'href="/131016/residents/{resident.atena_number}/"' in html


def test_search_partial_for_htmx(people, clerk, signed_in):
    client = signed_in(clerk)
    response = client.get(BASE, {"q": "たかはし"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<h1" not in html
    for name in ("髙橋 一郎", "髙橋 花子", "髙橋 太郎"):
        assert name in html
    assert "齋藤" not in html
    assert 'hx-swap-oob="innerHTML"' in html  # the live status line
    assert "3 件見つかりました" in html


def test_each_search_is_audited_with_terms_not_results(people, clerk, signed_in):
    signed_in(clerk).get(BASE, {"q": "髙橋", "birth": "1982"})
    with tenant_context("131016"):
        entry = AuditEntry.objects.filter(action="resident.searched").get()
    assert entry.actor_username == clerk.username
    assert entry.function == "registry:search"
    assert entry.detail["terms"] == {"q": "髙橋", "birth": "1982", "status": "resident"}
    assert entry.detail["hits"] == 1
    assert "花子" not in str(entry.detail)


def test_empty_search_page_searches_nothing(people, clerk, signed_in):
    page = signed_in(clerk).get(BASE)
    html = page.content.decode()
    assert page.status_code == 200
    assert "検索条件を入力してください" in html
    assert "autofocus" in html and 'hx-trigger="input changed delay:300ms, submit"' in html
    assert audit_actions(action="resident.searched") == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"birth": "平成32年1月1日"}, "平成32年はありません"),
        ({"birth": "1985-13-01"}, "13月はありません"),
        ({"postal_code": "12-3"}, "郵便番号は7桁"),
        ({"q": "髙橋", "number": "あいう"}, "番号は半角"),
    ],
)
def test_bad_search_input_is_a_clear_message(people, clerk, signed_in, params, message):
    client = signed_in(clerk)
    page = client.get(BASE, params)
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html and "_error" in html
    partial = client.get(BASE, params, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200  # htmx swaps 2xx only
    assert message in partial.content.decode()
    assert audit_actions(action="resident.searched") == []


def test_status_filter_defaults_to_residents(people, shimin, signed_in):
    client = signed_in(shimin)
    saito = people["齋藤 学"]
    client.post(
        f"{BASE}{saito.atena_number}/move-out/",
        {
            "out-destination": "大阪府堺市堺区南瓦町3-1",
            "out-effective_on": "令和8年4月10日",
            "out-filed_on": "2026-04-06",
        },
    )
    assert fresh(saito).status == Status.MOVED_OUT
    assert "齋藤 学" not in client.get(BASE, {"q": "サイトウ"}).content.decode()
    html = client.get(BASE, {"q": "サイトウ", "status": "all"}).content.decode()
    assert "齋藤 学" in html and "転出" in html


def test_search_by_number_and_address(people, clerk, signed_in):
    client = signed_in(clerk)
    hanako = people["髙橋 花子"]
    html = client.get(BASE, {"number": hanako.atena_number}).content.decode()
    assert "髙橋 花子" in html and "番号" in html
    html = client.get(BASE, {"postal_code": "100-0001", "machiaza": "千代田"}).content.decode()
    assert "4 件見つかりました" in html


def test_search_pagination(move_in, clerk, signed_in):
    move_in([person("田中 太郎", "タナカ タロウ", birth=f"{1950 + i}-01-01") for i in range(1)])
    for i in range(54):
        move_in([person("田中 次郎", "タナカ ジロウ", birth=f"{1950 + i % 40}-02-02")])
    client = signed_in(clerk)
    first = client.get(BASE, {"q": "田中"}).content.decode()
    assert "55 件見つかりました" in first and "1 / 2" in first and "page=2" in first
    second = client.get(BASE, {"q": "田中", "page": "2"}).content.decode()
    assert "2 / 2" in second and "51〜55" in second


# --- resident page ----------------------------------------------------------------------


def test_resident_page_groups_the_record(people, clerk, signed_in):
    hanako = people["髙橋 花子"]
    page = signed_in(clerk).get(f"{BASE}{hanako.atena_number}/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert html.count("<h1") == 1
    for text in (
        "基本",
        "住所",
        "資格",
        "個人番号",
        "異動履歴",
        "転入",
        # one date form (issue 12): 和暦 with the 西暦 in the record, 和暦 in the tables
        "<dd>昭和57年3月3日（1982年3月3日）</dd>",
        "<td>令和8年4月3日</td>",
        "<td>令和8年4月6日</td>",
        "<td>昭和55年5月10日</td>",
    ):
        assert text in html, text
    assert "2026-04-03" not in html and "1982-03-03" not in html
    assert "外国人住民の事項" not in html
    # household members with links and relationships, and the household link
    for name in ("髙橋 一郎", "髙橋 太郎"):
        member = people[name]
        assert f'href="/131016/residents/{member.atena_number}/"' in html
    assert "世帯主" in html and "子" in html
    assert f'href="/131016/households/{hanako.household.household_number}/"' in html
    # the My Number is masked and the clerk has no reveal form
    assert MY_NUMBER not in html and "●●●● ●●●● ●●●●" in html
    assert "利用目的" not in html and "/my-number/" not in html
    # no change forms for a counter clerk
    assert "move-within" not in html and "転居を記録" not in html


def test_resident_view_is_audited(people, clerk, signed_in):
    ichiro = people["髙橋 一郎"]
    signed_in(clerk).get(f"{BASE}{ichiro.atena_number}/")
    with tenant_context("131016"):
        entry = AuditEntry.objects.filter(action="resident.viewed").get()
    assert entry.object_id == ichiro.atena_number
    assert entry.function == "registry:resident"
    assert entry.actor_username == clerk.username
    assert entry.my_number_shown is False


def test_unknown_resident_is_404(people, clerk, signed_in):
    assert signed_in(clerk).get(f"{BASE}99999999/").status_code == 404
    assert signed_in(clerk).get("/131016/households/99999999/").status_code == 404


def test_foreign_resident_section(move_in, clerk, signed_in):
    (resident,) = move_in(
        [
            person(
                "王 小明",
                "ワン シャオミン",
                resident_type="2",
                nationality="中国",
                residence_status="留学",
                name_alphabet="WANG XIAOMING",
            )
        ]
    )
    html = signed_in(clerk).get(f"{BASE}{resident.atena_number}/").content.decode()
    assert "外国人住民の事項" in html and "WANG XIAOMING" in html and "留学" in html


# --- My Number ----------------------------------------------------------------------------


def test_clerk_cannot_reveal(people, clerk, signed_in):
    hanako = people["髙橋 花子"]
    response = signed_in(clerk).post(
        f"{BASE}{hanako.atena_number}/my-number/", {"reveal-purpose": "確認"}
    )
    assert response.status_code == 403
    assert MY_NUMBER not in response.content.decode()
    assert audit_actions(action="resident.my_number_revealed") == []


def test_shimin_staff_reveals_with_a_purpose(people, shimin, signed_in):
    hanako = people["髙橋 花子"]
    client = signed_in(shimin)
    page = client.get(f"{BASE}{hanako.atena_number}/").content.decode()
    assert MY_NUMBER not in page
    assert "利用目的" in page and f"{BASE}{hanako.atena_number}/my-number/" in page
    response = client.post(
        f"{BASE}{hanako.atena_number}/my-number/",
        {"reveal-purpose": "国民健康保険の資格取得届の確認"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "1234 5678 9018" in html and "<html" not in html
    with tenant_context("131016"):
        entry = AuditEntry.objects.get(action="resident.my_number_revealed")
    assert entry.my_number_shown is True
    assert entry.purpose == "国民健康保険の資格取得届の確認"
    assert entry.object_id == hanako.atena_number
    assert entry.actor_username == shimin.username
    assert MY_NUMBER not in str(entry.detail)
    # Without htmx the number is shown on a page of its own.
    full = client.post(f"{BASE}{hanako.atena_number}/my-number/", {"reveal-purpose": "確認"})
    assert full.status_code == 200 and "1234 5678 9018" in full.content.decode()
    assert "no-store" in full["Cache-Control"]


def test_reveal_needs_a_purpose(people, shimin, signed_in):
    hanako = people["髙橋 花子"]
    client = signed_in(shimin)
    response = client.post(
        f"{BASE}{hanako.atena_number}/my-number/", {"reveal-purpose": "  "}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "個人番号を表示する目的を入力してください" in html
    assert 'aria-describedby="id_reveal-purpose_helptext id_reveal-purpose_error"' in html
    assert MY_NUMBER not in html and "1234 5678 9018" not in html
    assert audit_actions(action="resident.my_number_revealed") == []
    assert client.get(f"{BASE}{hanako.atena_number}/my-number/").status_code == 405


def test_no_reveal_without_a_registered_number(people, shimin, signed_in):
    ichiro = people["髙橋 一郎"]
    client = signed_in(shimin)
    assert "利用目的" not in client.get(f"{BASE}{ichiro.atena_number}/").content.decode()
    response = client.post(f"{BASE}{ichiro.atena_number}/my-number/", {"reveal-purpose": "確認"})
    assert response.status_code == 404
    assert audit_actions(action="resident.my_number_revealed") == []


def test_history_never_shows_a_my_number(people, shimin, signed_in):
    hanako = people["髙橋 花子"]
    html = signed_in(shimin).get(f"{BASE}{hanako.atena_number}/").content.decode()
    assert MY_NUMBER not in html and "1234 5678 9018" not in html
    assert "記録の作成" in html


# --- changes ------------------------------------------------------------------------------

MOVE = {
    "move-postal_code": "100-0005",
    "move-prefecture": "東京都",
    "move-city": "千代田区",
    "move-machiaza": "丸の内",
    "move-banchi": "1-9-1",
    "move-katagaki": "",
    "move-effective_on": "令和8年4月20日",
    "move-filed_on": "2026-04-21",
}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("move-within", MOVE),
        ("move-out", {"out-destination": "堺市", "out-effective_on": "2026-04-10"}),
        ("death", {"death-effective_on": "2026-04-10", "death-filed_on": "2026-04-11"}),
        (
            "name-change",
            {
                "name-reason": "marriage",
                "name-name": "鈴木 一郎",
                "name-effective_on": "2026-04-10",
            },
        ),
    ],
)
def test_clerk_may_not_change_records(
    people, clerk, signed_in, make_staff, municipality_a, path, data
):
    ichiro = people["髙橋 一郎"]
    kosodate = make_staff(municipality_a, ("kosodate", Role.DEPARTMENT_STAFF))
    for staff in (clerk, kosodate):
        response = signed_in(staff).post(f"{BASE}{ichiro.atena_number}/{path}/", data)
        assert response.status_code == 403
    after = fresh(ichiro)
    assert (after.name, after.machiaza, after.status) == ("髙橋 一郎", "千代田", Status.RESIDENT)
    with tenant_context("131016"):
        assert ResidentHistory.objects.filter(resident=ichiro).count() == 1


def test_shimin_staff_moves_a_resident_within(people, shimin, signed_in):
    ichiro = people["髙橋 一郎"]
    client = signed_in(shimin)
    page = client.get(f"{BASE}{ichiro.atena_number}/").content.decode()
    assert "転居を記録する" in page and 'value="東京都"' in page
    response = client.post(f"{BASE}{ichiro.atena_number}/move-within/", MOVE)
    assert response.status_code == 302
    assert response.url == f"{BASE}{ichiro.atena_number}/"
    after = fresh(ichiro)
    assert (after.machiaza, after.banchi, after.postal_code) == ("丸の内", "1-9-1", "1000005")
    assert after.settled_on.text == "令和8年4月20日"
    assert after.previous_address == ADDRESS.__str__()
    with tenant_context("131016"):
        history = ResidentHistory.objects.filter(resident=ichiro).order_by("id").last()
        event = OutboxEvent.objects.order_by("seq").last()
        entry = AuditEntry.objects.filter(action="resident.move_within").get()
    assert history.change == "move_within"
    assert history.filed_on.isoformat() == "2026-04-21"
    assert history.staff_username == shimin.username
    assert event.type == "jp.machi.resident.moved_within"
    assert event.subject == ichiro.atena_number
    assert entry.function == "registry:move_within"
    # the others of the household did not move
    assert fresh(people["髙橋 花子"]).machiaza == "千代田"
    page = client.get(response.url).content.decode()
    assert "転居を記録しました" in page
    assert "令和8年4月20日" in page and "丸の内" in page


def test_move_within_together_moves_the_household(people, shimin, signed_in):
    ichiro = people["髙橋 一郎"]
    data = {**MOVE, "move-together": "on"}
    assert (
        signed_in(shimin).post(f"{BASE}{ichiro.atena_number}/move-within/", data).status_code == 302
    )
    for name in ("髙橋 一郎", "髙橋 花子", "髙橋 太郎"):
        assert fresh(people[name]).machiaza == "丸の内"
    assert fresh(people["齋藤 学"]).machiaza == "千代田"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("move-effective_on", "令和8年2月30日", "暦にない日付"),
        ("move-effective_on", "平成40年1月1日", "平成40年はありません"),
        ("move-filed_on", "2026-13-01", "13月はありません"),
        ("move-filed_on", "2099-01-01", "未来の日付"),
        ("move-machiaza", "", "必須"),
    ],
)
def test_bad_input_changes_nothing(people, shimin, signed_in, field, value, message):
    ichiro = people["髙橋 一郎"]
    client = signed_in(shimin)
    response = client.post(f"{BASE}{ichiro.atena_number}/move-within/", {**MOVE, field: value})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'aria-describedby="id_{field}_helptext id_{field}_error"' in html or (
        f'aria-describedby="id_{field}_error"' in html
    )
    assert '<details class="change-form" open>' in html
    assert fresh(ichiro).machiaza == "千代田"
    with tenant_context("131016"):
        assert not OutboxEvent.objects.filter(type="jp.machi.resident.moved_within").exists()


def test_service_refusal_is_shown_and_nothing_written(people, shimin, signed_in):
    ichiro = people["髙橋 一郎"]
    client = signed_in(shimin)
    data = {"out-destination": "  ", "out-effective_on": "2026-04-10", "out-filed_on": "2026-04-06"}
    response = client.post(f"{BASE}{ichiro.atena_number}/move-out/", data)
    assert response.status_code == 400
    assert "転出先" in response.content.decode()
    assert fresh(ichiro).status == Status.RESIDENT


def test_death_and_name_change(people, shimin, signed_in):
    client = signed_in(shimin)
    taro, hanako = people["髙橋 太郎"], people["髙橋 花子"]
    response = client.post(
        f"{BASE}{hanako.atena_number}/name-change/",
        {
            "name-reason": "divorce",
            "name-name": "佐藤 花子",
            "name-kana": "サトウ ハナコ",
            "name-former_surname": "",
            "name-effective_on": "R8.4.1",
            "name-filed_on": "令和8年4月2日",
        },
    )
    assert response.status_code == 302
    assert (fresh(hanako).name, fresh(hanako).kana) == ("佐藤 花子", "サトウ\u3000ハナコ")
    response = client.post(
        f"{BASE}{taro.atena_number}/death/",
        {"death-effective_on": "令和8年4月1日", "death-filed_on": "2026-04-02"},
    )
    assert response.status_code == 302
    assert fresh(taro).status == Status.DECEASED
    html = client.get(f"{BASE}{taro.atena_number}/").content.decode()
    assert "死亡" in html and "記録を変更できません" in html and "転居を記録する" not in html
    # a second death filing is refused by the service, with its message
    again = client.post(
        f"{BASE}{taro.atena_number}/death/",
        {"death-effective_on": "令和8年4月1日", "death-filed_on": "2026-04-02"},
    )
    assert again.status_code == 400
    assert "住民ではありません" in again.content.decode()
    # the history shows the name change, newest first
    html = client.get(f"{BASE}{hanako.atena_number}/").content.decode()
    assert html.index("氏名の変更（離婚）") < html.index("転入")
    assert "髙橋 花子 → 佐藤 花子" in html


def test_change_urls_refuse_get(people, shimin, signed_in):
    ichiro = people["髙橋 一郎"]
    client = signed_in(shimin)
    for path in ("move-within", "move-out", "death", "name-change"):
        assert client.get(f"{BASE}{ichiro.atena_number}/{path}/").status_code == 405


# --- household ----------------------------------------------------------------------------


def test_household_page(people, clerk, signed_in):
    household = people["髙橋 一郎"].household
    page = signed_in(clerk).get(f"/131016/households/{household.household_number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<h1") == 1
    for name in ("髙橋 一郎", "髙橋 花子", "髙橋 太郎"):
        assert name in html
        assert f'href="/131016/residents/{people[name].atena_number}/"' in html
    assert "齋藤" not in html
    assert "東京都千代田区千代田1-1" in html and "〒100-0001" in html
    with tenant_context("131016"):
        entry = AuditEntry.objects.get(action="household.viewed")
    assert entry.object_id == household.household_number
    assert entry.object_type == "household"


def test_household_shows_members_of_every_status(people, shimin, signed_in):
    client = signed_in(shimin)
    taro = people["髙橋 太郎"]
    client.post(
        f"{BASE}{taro.atena_number}/death/",
        {"death-effective_on": "令和8年4月1日", "death-filed_on": "2026-04-02"},
    )
    html = client.get(f"/131016/households/{taro.household.household_number}/").content.decode()
    assert "髙橋 太郎" in html and "死亡" in html


# --- who may come in ------------------------------------------------------------------------


def test_admin_without_working_role_is_refused(people, make_staff, municipality_a, signed_in):
    admin = make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))
    client = signed_in(admin)
    ichiro = people["髙橋 一郎"]
    for url in (
        BASE,
        f"{BASE}?q=髙橋",
        f"{BASE}{ichiro.atena_number}/",
        f"/131016/households/{ichiro.household.household_number}/",
    ):
        assert client.get(url).status_code == 403, url
    for path in ("my-number", "move-within", "death"):
        assert client.post(f"{BASE}{ichiro.atena_number}/{path}/", {}).status_code == 403
    assert "住民検索" not in client.get("/131016/home/").content.decode()
    assert audit_actions(action__startswith="resident.") == ["resident.move_in"] * 4


def test_navigation_shows_search_to_working_roles(people, clerk, signed_in):
    html = signed_in(clerk).get("/131016/home/").content.decode()
    assert 'href="/131016/residents/"' in html and "住民検索" in html


def test_staff_of_another_municipality_is_refused(people, make_staff, municipality_b, signed_in):
    outsider = make_staff(
        municipality_b,
        ("shimin", Role.DEPARTMENT_STAFF),
        reveal_my_number_departments=frozenset({"shimin"}),
    )
    client = signed_in(outsider)
    ichiro, hanako = people["髙橋 一郎"], people["髙橋 花子"]
    for url in (
        BASE,
        f"{BASE}?q=髙橋",
        f"{BASE}{ichiro.atena_number}/",
        f"/131016/households/{ichiro.household.household_number}/",
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(f"{BASE}{hanako.atena_number}/my-number/", {"reveal-purpose": "x"}).status_code
        == 403
    )
    assert client.post(f"{BASE}{ichiro.atena_number}/move-within/", MOVE).status_code == 403
    assert fresh(ichiro).machiaza == "千代田"
    assert audit_actions(action__in=["resident.viewed", "resident.searched"]) == []


# --- query counts -----------------------------------------------------------------------------


def _tenant_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connections["tenant_131016"]) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_search_queries_do_not_grow_with_results(
    move_in, clerk, signed_in, django_assert_max_num_queries
):
    client = signed_in(clerk)
    counts = []
    for total in (3, 30):
        with tenant_context("131016"):
            Resident.objects.filter(name__startswith="中村").update(status=Status.REMOVED)
        for i in range(total):
            move_in([person("中村 進", "ナカムラ ススム", birth=f"{1950 + i}-01-01")])
        with django_assert_max_num_queries(25):
            counts.append(_tenant_queries(client, BASE, {"q": "中村"}))
        html = client.get(BASE, {"q": "中村"}).content.decode()
        assert f"{total} 件見つかりました" in html
    assert counts[0] == counts[1], counts


def test_resident_page_queries_do_not_grow(
    move_in, shimin, signed_in, django_assert_max_num_queries
):
    client = signed_in(shimin)
    counts = []
    for members in (3, 30):
        persons = [person("小林 正", "コバヤシ タダシ")] + [
            person(f"小林 子{i}", "コバヤシ", relationship="子", birth="2010-01-01")
            for i in range(members - 1)
        ]
        head, *_ = move_in(persons)
        with tenant_context("131016"):
            from machi.registry.services import Filing, resident_change_name

            for i in range(members):
                resident_change_name(
                    resident=Resident.objects.get(pk=head.pk),
                    name=f"小林 正{i}",
                    kana="コバヤシ タダシ",
                    reason="marriage",
                    filing=Filing(effective_on="2026-04-10"),
                )
        url = f"{BASE}{head.atena_number}/"
        with django_assert_max_num_queries(30):
            counts.append(_tenant_queries(client, url))
        household_url = f"/131016/households/{head.household.household_number}/"
        with django_assert_max_num_queries(25):
            counts.append(_tenant_queries(client, household_url))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_resident_page_in_english_shows_dates_as_1_dec_2026(people, clerk, signed_in):
    hanako = people["髙橋 花子"]
    clerk.language = "en"  # staff read the site in the language of their account
    clerk.save(update_fields=["language"])
    page = signed_in(clerk).get(f"{BASE}{hanako.atena_number}/")
    html = page.content.decode()
    assert "3 Mar 1982" in html and "10 May 1980" in html
    assert "昭和57年3月3日" not in html
