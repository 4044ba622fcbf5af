from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from machi.audit.models import AuditEntry
from machi.japanese import is_valid_atena_number
from machi.linkage.models import OutboxEvent
from machi.registry.models import Resident, ResidentHistory, ResidentKey, Status
from machi.registry.mynumber import my_number_open
from machi.registry.services import (
    Address,
    Filing,
    RegistryError,
    filing_batch,
    household_change,
    resident_change_name,
    resident_move_out,
    resident_move_within,
    resident_record_death,
    resident_register_birth,
)
from machi.registry.tests.conftest import person

pytestmark = pytest.mark.django_db(databases="__all__")

FILING = Filing(effective_on="令和8年5月1日", filed_on=datetime.date(2026, 5, 7))


def _events(subject):
    return list(OutboxEvent.objects.filter(subject=subject).values_list("type", flat=True))


def test_move_in_writes_record_history_keys_outbox_and_audit(move_in):
    head, spouse = move_in(
        [
            person("髙橋 一郎", "たかはし いちろう", my_number="123456789018"),
            person("髙橋 花子", "ﾀｶﾊｼ ﾊﾅｺ", relationship="妻", sex="2"),
        ]
    )
    assert is_valid_atena_number(head.atena_number)
    assert head.household_id == spouse.household_id
    assert head.name == "髙橋 一郎"  # stored exactly as given
    assert head.kana == "タカハシ　イチロウ" or head.kana == "タカハシ イチロウ"
    assert spouse.kana.startswith("タカハシ")
    assert head.my_number != "123456789018"  # encrypted at rest
    assert my_number_open(head.my_number) == "123456789018"
    history = ResidentHistory.objects.get(resident=head)
    assert history.change == "move_in"
    assert history.changes["name"] == [None, "髙橋 一郎"]
    assert history.changes["my_number"] == "changed"
    assert "123456789018" not in str(history.changes)
    assert history.effective_on.text == "2026-04-03"
    assert ResidentKey.objects.filter(resident=head, key="K:高橋一郎").exists()
    assert _events(head.atena_number) == ["jp.machi.resident.moved_in"]
    event = OutboxEvent.objects.get(subject=head.atena_number)
    assert event.source == "/municipalities/131016"
    assert "髙橋" not in str(event.data)
    entry = AuditEntry.objects.filter(object_id=head.atena_number).get()
    assert entry.action == "resident.move_in" and entry.my_number_changed


def test_failure_leaves_nothing(move_in):
    residents_before = Resident.objects.count()
    events_before = OutboxEvent.objects.count()
    audit_before = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        move_in(
            [person("山田 太郎", "ヤマダ タロウ"), person("山田 次郎", "", relationship="子の猫")]
        )
    assert Resident.objects.count() == residents_before
    assert OutboxEvent.objects.count() == events_before
    assert AuditEntry.objects.count() == audit_before
    assert not ResidentHistory.objects.filter(resident__name="山田 太郎").exists()


def test_outbox_sequence_is_gapless_across_changes(move_in):
    residents = move_in(
        [person("佐藤 一", "サトウ ハジメ"), person("佐藤 二", "サトウ ツギ", relationship="子")]
    )
    resident_move_within(
        residents=residents,
        address=Address(prefecture="東京都", city="千代田区", machiaza="丸の内", banchi="2-2"),
        filing=FILING,
    )
    seqs = list(OutboxEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_move_within_records_previous_address(move_in):
    (resident,) = move_in([person("田中 実", "タナカ ミノル")])
    resident_move_within(
        residents=[resident],
        address=Address(prefecture="東京都", city="千代田区", machiaza="丸の内", banchi="2-2"),
        filing=FILING,
    )
    resident.refresh_from_db()
    assert resident.machiaza == "丸の内"
    assert resident.previous_address == "東京都千代田区千代田1-1"
    history = resident.history.order_by("id").last()
    assert history.changes["machiaza"] == ["千代田", "丸の内"]
    assert _events(resident.atena_number)[-1] == "jp.machi.resident.moved_within"


def test_birth_joins_household(move_in):
    (mother,) = move_in([person("鈴木 愛", "スズキ アイ", sex="2")])
    baby = resident_register_birth(
        person=person("鈴木 陽", "すずき はる", birth="令和8年4月20日", relationship="子"),
        household=mother.household,
        filing=Filing(effective_on="令和8年4月20日", filing_kind="ex_officio"),
    )
    assert baby.household == mother.household
    assert baby.machiaza == mother.machiaza
    assert baby.birth_date_approx == datetime.date(2026, 4, 20)
    assert baby.became_resident_on.text == "令和8年4月20日"
    assert _events(baby.atena_number) == ["jp.machi.resident.born"]


def test_move_out_and_death_close_the_record(move_in):
    a, b = move_in(
        [person("中村 一", "ナカムラ ハジメ"), person("中村 二", "ナカムラ ジ", relationship="子")]
    )
    resident_move_out(residents=[b], destination="大阪府堺市堺区南瓦町3-1", filing=FILING)
    b.refresh_from_db()
    assert b.status == Status.MOVED_OUT and b.destination_address.startswith("大阪府")
    resident_record_death(resident=a, filing=FILING)
    a.refresh_from_db()
    assert a.status == Status.DECEASED
    with pytest.raises(RegistryError, match="住民ではありません"):
        resident_record_death(resident=a, filing=FILING)
    assert _events(a.atena_number)[-1] == "jp.machi.resident.died"


def test_household_split_and_new_householder(move_in):
    head, wife, son = move_in(
        [
            person("小林 父", "コバヤシ チチ"),
            person("小林 母", "コバヤシ ハハ", relationship="妻", sex="2"),
            person("小林 子", "コバヤシ コ", relationship="子", birth="2000-01-01"),
        ]
    )
    new = household_change(relationships={son: "世帯主"}, filing=FILING)
    son.refresh_from_db()
    assert son.household == new and new != head.household
    with pytest.raises(RegistryError, match="世帯主は1人"):
        household_change(relationships={wife: "世帯主"}, household=head.household, filing=FILING)
    household_change(
        relationships={head: "夫", wife: "世帯主"}, household=head.household, filing=FILING
    )
    wife.refresh_from_db()
    assert wife.relationship == "世帯主"


def test_a_refusal_outside_a_batch_leaves_the_callers_transaction_usable(move_in):
    head, wife = move_in(
        [person("小林 父", "コバヤシ チチ"), person("小林 母", "コバヤシ ハハ", relationship="妻")]
    )
    alias = connections[Resident.objects.db].alias
    with transaction.atomic(using=alias):
        with pytest.raises(RegistryError, match="世帯主は1人"):
            household_change(
                relationships={wife: "世帯主"}, household=head.household, filing=FILING
            )
        assert not transaction.get_rollback(using=alias)  # rolled back to its savepoint
        assert Resident.objects.filter(pk=head.pk).exists()


def test_a_refusal_inside_a_batch_fails_the_whole_transaction(move_in):
    """The batch may hold rows of the refused change: nothing of it may commit."""
    head, wife = move_in(
        [person("小林 父", "コバヤシ チチ"), person("小林 母", "コバヤシ ハハ", relationship="妻")]
    )
    alias = connections[Resident.objects.db].alias
    before = ResidentHistory.objects.count()
    refused = pytest.raises(RegistryError, match="世帯主は1人")
    with refused, transaction.atomic(using=alias), filing_batch():
        resident_change_name(
            resident=head, name="小林 一", kana="コバヤシ ハジメ", reason="marriage", filing=FILING
        )
        try:
            household_change(
                relationships={wife: "世帯主"}, household=head.household, filing=FILING
            )
        except RegistryError:
            assert transaction.get_rollback(using=alias)
            raise
    assert ResidentHistory.objects.count() == before
    head.refresh_from_db()
    assert head.name == "小林 父"


def test_name_change_keeps_former_surname_searchable(move_in):
    (bride,) = move_in([person("山﨑 由美", "ヤマザキ ユミ", sex="2")])
    resident_change_name(
        resident=bride,
        name="渡邊 由美",
        kana="わたなべ ゆみ",
        reason="marriage",
        former_surname="山﨑",
        former_surname_kana="ヤマザキ",
        filing=FILING,
    )
    keys = set(ResidentKey.objects.filter(resident=bride).values_list("key", flat=True))
    assert {"K:渡辺由美", "K:山崎由美", "K:山崎", "N:ハタナヘ"} <= keys
    assert _events(bride.atena_number)[-1] == "jp.machi.resident.name_changed"
    with pytest.raises(RegistryError):
        resident_change_name(resident=bride, name="x", kana="", reason="whim", filing=FILING)


def test_non_bmp_and_ivs_survive_storage(move_in):
    name = "𠮷田 葛\U000e0100子"
    (resident,) = move_in([person(name, "よしだ かつこ", sex="2")])
    with connections["tenant_131016"].cursor() as cursor:
        cursor.execute("SELECT name FROM registry_resident WHERE id = %s", [resident.pk])
        (stored,) = cursor.fetchone()
    assert stored == name
    assert len(stored) == 6  # code points, not bytes; the IVS selector is kept


def test_unknown_and_non_calendar_birth_dates(move_in):
    a, b = move_in(
        [
            person("古田 一", "フルタ ハジメ", birth="昭和30年月日不詳"),
            person("古田 二", "フルタ ジ", relationship="子", birth="平成3年2月30日"),
        ]
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.birth_date.unknown and a.birth_date.text == "昭和30年月日不詳"
    assert a.birth_date_approx == datetime.date(1955, 1, 1)
    assert b.birth_date.non_calendar and b.birth_date_approx == datetime.date(1991, 2, 28)


def test_foreign_resident_needs_nationality(move_in):
    with pytest.raises(RegistryError, match="国籍"):
        move_in([person("スミス ジョン", "スミス ジョン", resident_type="2")])
