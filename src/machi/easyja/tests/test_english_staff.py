"""The staff screens in English (issue 14: procedure names, relationships and dates were
still Japanese in English mode): the counter navigator's result, a resident's household
and the task list show no Japanese outside the parts marked ``lang="ja"`` (residents'
names and addresses, which are Japanese data), and dates as English dates."""

from __future__ import annotations

import re

import pytest

from machi.accounts.roles import Role
from machi.easyja.english import term_en
from machi.easyja.tests.scan import japanese_outside_lang_ja
from machi.tenancy.context import tenant_context
from machi.web.tests.objects import A, World

pytestmark = pytest.mark.django_db(databases="__all__")

WAREKI = re.compile(r"(令和|平成|昭和)\d+年|\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}(?![\d:T])")

JAPANESE_DATA = re.compile(r'<(span|p|dd|td)[^>]*\blang="ja"[^>]*>.*?</\1>', re.DOTALL)


@pytest.fixture
def world(make_staff, municipality_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    staff = make_staff(
        municipality_a, ("shimin", Role.COUNTER_CLERK), ("kosodate", Role.DEPARTMENT_STAFF)
    )
    staff.language = "en"
    staff.save(update_fields=["language"])
    return World(lg_code=A, staff=staff, receiver=None)


def _main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def _pages(world: World) -> dict[str, str]:
    return {
        "navigator result": f"/{A}/counter/intake/done/{world.visit.public_code}/",
        "household": f"/{A}/households/{world.head.household.household_number}/",
        "task list": f"/{A}/counter/tasks/?department=kosodate",
    }


def test_staff_pages_in_english_leave_no_japanese(world, signed_in):
    client = signed_in(world.staff)
    problems = []
    for name, url in _pages(world).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        html = response.content.decode()
        assert re.search(r'<html lang="en"', html), name
        main = _main(html)
        if found := japanese_outside_lang_ja(main):
            problems.append(f"{name}: Japanese outside lang=ja: {found[:15]}")
        # Japanese data (names, the navigator's reasons) is marked lang=ja: its dates too
        if dates := WAREKI.findall(JAPANESE_DATA.sub("", main)):
            problems.append(f"{name}: Japanese or ISO dates: {dates[:5]}")
    assert not problems, "\n".join(problems)


def test_every_procedure_of_the_visit_has_its_english_name(world, signed_in):
    """The filter keeps an unknown name Japanese (marked lang=ja), which the scan above
    allows: every procedure of the visit must be one the table knows."""
    from django.utils.html import escape

    with tenant_context(A):
        every = set(world.visit.tasks.values_list("title", flat=True))
        # the task list: the open procedures of the staff member's 子育て支援課
        own = set(world.visit.tasks.filter(department="kosodate").values_list("title", flat=True))
    assert own and every > own
    client = signed_in(world.staff)
    for title in every:
        assert term_en(title) is not None, f"no English name for {title}"
    result = _main(client.get(_pages(world)["navigator result"]).content.decode())
    for title in every:
        assert escape(term_en(title)) in result and title not in result, title
    tasks = _main(client.get(_pages(world)["task list"]).content.decode())
    assert all(escape(term_en(title)) in tasks for title in own)
    assert not [title for title in every if title in tasks]


def test_the_household_names_relationships_in_english(world, signed_in):
    html = _main(signed_in(world.staff).get(_pages(world)["household"]).content.decode())
    assert "Householder" in html or "householder" in html
    assert "世帯主" not in html


def test_in_japanese_the_names_stay_japanese(world, signed_in):
    world.staff.language = "ja"
    world.staff.save(update_fields=["language"])
    html = _main(signed_in(world.staff).get(_pages(world)["household"]).content.decode())
    assert "世帯主" in html and "householder" not in html.lower()
