"""引越しワンストップ between the two demo municipalities in a real browser (issue 6).

千代田区's resident-records clerk records a household's move out to 堺市 with the
resident's consent; the relay (``machi moves relay``, what the worker runs after each
commit) carries the reservation to 堺市; 堺市's counter clerk opens it, starts the intake
prefilled, answers the questions and confirms; the relay carries the 転入通知 back and
千代田区's resident page shows 転出確定 with the new address.

Every page on the way is scanned with axe-core and watched for CSP violations,
JavaScript errors and foreign requests.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

CHIYODA, SAKAI = "131016", "271403"
NEW_ADDRESS = ("大阪府", "堺市", "堺区南瓦町", "3-1")


@pytest.fixture(scope="module")
def household(machi_server) -> dict:
    """A demo household of 千代田区 (2–3 residents under 60, all living there)."""
    script = (
        "import json\n"
        "from machi.tenancy.context import tenant_context\n"
        "from machi.registry.models import Resident\n"
        f"with tenant_context({CHIYODA!r}):\n"
        "    for head in Resident.objects.filter(status='1', relationship='世帯主')"
        ".select_related('household').order_by('id'):\n"
        "        members = list(head.household.members.filter(status='1'))\n"
        "        born = [m.birth_date_approx for m in members]\n"
        "        if 2 <= len(members) <= 3 and all(b and 1970 <= b.year <= 2005 for b in born):\n"
        "            print(json.dumps({'atena': head.atena_number,"
        " 'names': [m.name for m in members]}, ensure_ascii=False))\n"
        "            break\n"
    )
    out = machi_server.machi("shell", "-c", script).strip().splitlines()
    assert out, "no suitable demo household"
    return json.loads(out[-1])


def test_move_between_the_demo_municipalities(
    signed_in_page, checks, machi_server, household, base_url
):
    atena, names = household["atena"], household["names"]

    # --- 1. 千代田区: the move out to 堺市, with the consent -------------------------------
    shimin = checks.watched(signed_in_page("chiyoda-shimin"))
    shimin.goto(f"/{CHIYODA}/residents/{atena}/")
    shimin.locator("summary", has_text=re.compile(r"^\s*転出\s*$")).click()
    shimin.locator("#id_out-destination").fill("大阪府堺市堺区南瓦町3-1")
    shimin.get_by_label(re.compile("^転出先の自治体（")).select_option(SAKAI)
    shimin.get_by_label(re.compile("本人が同意した$")).check()
    shimin.locator("#id_out-effective_on").fill("令和8年5月1日")
    shimin.get_by_label("同じ世帯の住民も一緒に転出する").check()
    checks.check(shimin, "resident page (move-out form filled)")
    shimin.get_by_role("button", name="転出を記録する").click()
    expect(shimin.get_by_role("status").first).to_contain_text("転出を記録しました。")
    moves = shimin.locator("section[aria-labelledby=moves-heading]")
    expect(moves).to_contain_text("堺市")
    expect(moves).to_contain_text("転出先へ送信待ち")
    checks.check(shimin, "resident page (outgoing move recorded)")

    # --- 2. the relay (the worker's job; here by the catch-up command) -------------------
    sent = [json.loads(line) for line in machi_server.machi("moves", "relay").splitlines()]
    assert {r["lg_code"]: r["reservations_sent"] for r in sent}[CHIYODA] == 1

    # --- 3. 堺市: the reservation, the prefilled intake, the move in ----------------------
    clerk = checks.watched(signed_in_page("sakai-clerk"))
    clerk.goto(f"/{SAKAI}/home/")
    clerk.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="転入予約"
    ).click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("転入予約（引越しワンストップ）")
    row = clerk.locator("tbody tr").filter(has_text="千代田区")
    expect(row).to_have_count(1)
    checks.check(clerk, "reservations list")
    row.get_by_role("link", name=re.compile("予約を開く")).click()
    for name in names:
        expect(clerk.locator("table").first).to_contain_text(name)
    checks.check(clerk, "reservation")
    clerk.get_by_role("button", name="この予約で転入を受け付ける").click()

    heading = clerk.locator("#intake-heading")
    expect(heading).to_have_text("2. 転入する人")
    expect(clerk.get_by_role("status").first).to_contain_text("転入予約")
    expect(clerk.locator("fieldset.intake-person")).to_have_count(len(names))
    prefilled = [clerk.locator(f"#id_n{i}-name").input_value() for i in range(len(names))]
    assert sorted(prefilled) == sorted(names)  # in the household's order at the origin
    checks.check(clerk, "intake step 2 (prefilled from the reservation)")
    clerk.get_by_role("button", name="次へ（確認事項）").click()

    expect(heading).to_have_text("3. 確認事項（住民記録ではわからないこと）")
    for i in range(len(names)):
        clerk.locator(f"#id_q-n{i}-insurance").select_option("kokuho")
    for field, value in zip(("prefecture", "city", "machiaza", "banchi"), NEW_ADDRESS, strict=True):
        clerk.locator(f"#id_address-{field}").fill(value)
    expect(clerk.locator("#id_address-previous_address")).not_to_have_value("")
    clerk.locator("#intake-notifier input[type=radio]").first.check()  # the 届出人: a mover
    checks.check(clerk, "intake step 3 (questions)")
    clerk.get_by_role("button", name="次へ（手続きを確認する）").click()
    expect(heading).to_have_text("4. 手続き一覧（確定前の確認）")
    clerk.get_by_role("button", name="この内容で確定する").click()
    expect(clerk).to_have_url(re.compile(rf"/{SAKAI}/counter/intake/done/[^/]+/$"))
    checks.check(clerk, "intake done")
    clerk.goto(f"/{SAKAI}/counter/moves/")
    expect(clerk.get_by_text("未処理の転入予約はありません。")).to_be_visible()

    # --- 4. the relay back; 千代田区 sees 転出確定 -----------------------------------------
    sent = [json.loads(line) for line in machi_server.machi("moves", "relay").splitlines()]
    assert {r["lg_code"]: r["notifications_sent"] for r in sent}[SAKAI] == 1
    shimin.goto(f"/{CHIYODA}/residents/{atena}/")
    moves = shimin.locator("section[aria-labelledby=moves-heading]")
    expect(moves).to_contain_text("転出確定")
    expect(moves).to_contain_text("令和8年5月1日")
    expect(shimin.locator("table.history")).to_contain_text("転出確定")
    checks.check(shimin, "resident page (move finalised)")
    checks.assert_clean()
