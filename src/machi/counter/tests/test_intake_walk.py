"""What a clerk walking a birth and a death through the counter saw (the walk of issue 12):
the dates the page fills in are in the one display form, and the step-4 summary lists
the subjects as written, whoever of the household they are."""

from __future__ import annotations

import re

import pytest

from machi.counter.tests.test_intake_relevance import (  # noqa: F401 (fixtures)
    BASE,
    HTMX,
    client,
    family,
    step,
    to_questions,
)

pytestmark = pytest.mark.django_db(databases="__all__")

ASKED = re.compile(r'name="((?:q-\w+|answers)-asked)" value="([^"]*)"')


def _birth_input(page: str) -> str:
    match = re.search(r'<input[^>]*id="id_n0-birth_date"[^>]*>', page)
    assert match, page[-2000:]
    return re.search(r'value="([^"]*)"', match[0])[1]


@pytest.mark.parametrize("typed", ["R8.12.1", "2026-12-01", "20261201", "令８．１２．１"])
def test_the_newborns_birth_date_is_filled_in_the_display_form(client, family, typed):  # noqa: F811
    assert client.post(step("event"), {"event": "birth", "date": typed}, **HTMX).status_code == 200
    number = family["head"].household.household_number
    page = client.post(f"{BASE}household/", {"household": number}, **HTMX).content.decode()
    assert _birth_input(page) == "令和8年12月1日"


def test_a_subject_before_the_others_gets_no_trailing_comma(client, family):  # noqa: F811
    """The deceased is the 世帯主, listed first of four: 「山田 太郎」, not 「山田 太郎、」."""
    page = to_questions(client, "death", family, subjects=("head",))
    data = dict(ASKED.findall(page))
    for name, asked in list(data.items()):
        if name != "answers-asked" and "insurance" in asked.split(","):
            data[name.removesuffix("-asked") + "-insurance"] = "kokuho"
    wife = family["wife"].atena_number
    data.update({"answers-funeral_host": wife, "notifier-who": wife})
    page = client.post(step("questions"), data, **HTMX).content.decode()
    assert "この内容で確定する" in page, page[-3000:]
    summary = re.search(r"対象者</dt><dd>(.*?)</dd>", page)[1]
    assert summary == "山田 太郎"


def test_several_subjects_are_joined_once(client, family):  # noqa: F811
    page = to_questions(client, "marriage", family, subjects=("head", "wife"))
    data = dict(ASKED.findall(page))
    for name, asked in list(data.items()):
        if name != "answers-asked" and "insurance" in asked.split(","):
            data[name.removesuffix("-asked") + "-insurance"] = "kokuho"
    data["notifier-who"] = family["head"].atena_number
    page = client.post(step("questions"), data, **HTMX).content.decode()
    assert "この内容で確定する" in page, page[-3000:]
    assert re.search(r"対象者</dt><dd>(.*?)</dd>", page)[1] == "山田 太郎、山田 花子"
