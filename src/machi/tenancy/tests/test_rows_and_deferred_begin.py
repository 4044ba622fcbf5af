"""The intake's fast paths (issue 5): ``rows_insert`` stores exactly what ``bulk_create``
stores, and ``deferred_begin`` opens a SQLite transaction (takes the write lock) at its
first statement, not when ``atomic`` is entered. Real databases, real threads."""

from __future__ import annotations

import datetime
import json
import threading
import time

import pytest
from django.db import connections, transaction
from django.db.models import JSONField
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from machi.audit.models import AuditEntry
from machi.counter.models import Task, TaskStatus, Visit
from machi.japanese import parse_date
from machi.linkage.models import OutboxEvent
from machi.registry.models import Household, Resident, ResidentHistory, ResidentKey
from machi.tenancy.context import current_tenant_alias, tenant_context
from machi.tenancy.rows import json_text, rows_insert, rows_new
from machi.tenancy.sqlite3.base import deferred_begin
from machi.tenancy.tests.test_sqlite_writers import (  # noqa: F401 - fixture
    ALIAS,
    _in_thread,
    _insert,
    _values,
    writers_db,
)

NOW = timezone.now()


def _stored(model, pk) -> dict:
    """The row as the database holds it (no ORM conversion), without its id; JSON
    columns as the value their text holds (rows_insert writes compact text)."""
    table = connections[current_tenant_alias()].ops.quote_name(model._meta.db_table)
    with connections[current_tenant_alias()].cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        names = [column[0] for column in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
    row.pop("id")
    for field in model._meta.concrete_fields:
        if isinstance(field, JSONField) and isinstance(row[field.column], str):
            row[field.column] = json.loads(row[field.column])
    return row


def _objects(n: int, household: Household, visit: Visit, resident: Resident) -> dict:
    """One instance of each hot model; ``n`` varies what must be unique."""
    return {
        Resident: Resident(
            atena_number=f"9{n:07d}",
            household=household,
            resident_type="1",
            status="1",
            name="髙橋 𠮷子",
            kana="タカハシ ヨシコ",
            sex="2",
            birth_date=parse_date("昭和62年2月1日"),
            birth_date_approx=datetime.date(1987, 2, 1),
            became_resident_on=parse_date("2026-04-03"),
            settled_on=None,
            relationship="妻",
            prefecture="東京都",
            city="千代田区",
            machiaza="千代田",
            kokuho=True,
            gaiji=[],
        ),
        ResidentHistory: ResidentHistory(
            resident=resident,
            change="move_in",
            changes={"name": [None, "髙橋"]},
            effective_on=parse_date("令和8年4月3日"),
            filed_on=datetime.date(2026, 4, 3),
            filing_kind="filing",
            staff_id=7,
            staff_username="clerk",
        ),
        ResidentKey: ResidentKey(resident=resident, key=f"タカハシ{n}", raw="髙橋"),
        Task: Task(
            visit=visit,
            procedure_code="kokuho",
            title="国保",
            department="hoken",
            department_name="保険年金課",
            person_label="p1",
            due=datetime.date(2026, 4, 17),
            reason="国保",
            forms=["kokuho_shutoku"],
            status=TaskStatus.OPEN,
            created_at=NOW,
        ),
        OutboxEvent: OutboxEvent(
            seq=10_000_000 + n,
            type="jp.machi.test",
            source="/municipalities/131016",
            subject="S1",
            time=NOW,
            data={"n": 1, "x": None},
        ),
        AuditEntry: AuditEntry(
            seq=10_000_000 + n,
            created_at=NOW,
            actor_id=None,
            actor_username="",
            action="test",
            object_type="visit",
            object_id="X",
            detail={"tasks": [1, 2]},
            my_number_changed=True,
            prev_hash="0" * 64,
            entry_hash="1" * 64,
        ),
    }


@pytest.mark.django_db(databases="__all__")
def test_rows_insert_stores_what_bulk_create_stores():
    with tenant_context("131016"):
        using = current_tenant_alias()
        household = Household.objects.create(household_number="99999999")
        visit = Visit.objects.create(
            public_code="TEST-TEST-TT", event_type="move_in", event_date=datetime.date(2026, 4, 3),
            opened_at=NOW,
        )  # fmt: skip
        resident = (
            Resident.objects.filter(pk__gt=0).first()
            or Resident.objects.bulk_create([_objects(0, household, visit, None)[Resident]])[0]
        )
        by_orm = _objects(1, household, visit, resident)
        by_rows = _objects(2, household, visit, resident)
        for model, orm_obj in by_orm.items():
            (orm_obj,) = model.objects.using(using).bulk_create([orm_obj])
            (fast_obj,) = rows_insert(model, [by_rows[model]], using=using, returning=True)
            assert fast_obj.pk is not None and fast_obj.pk != orm_obj.pk
            orm_row, fast_row = _stored(model, orm_obj.pk), _stored(model, fast_obj.pk)
            for name in ("atena_number", "key", "seq", "event_id", "updated_at", "recorded_at"):
                orm_row.pop(name, None), fast_row.pop(name, None)
            assert fast_row == orm_row, model.__name__
            assert model.objects.using(using).get(pk=fast_obj.pk) is not None


@pytest.mark.django_db(databases="__all__")
def test_rows_insert_without_returning_inserts_in_order():
    with tenant_context("131016"):
        using = current_tenant_alias()
        rows_insert(
            OutboxEvent,
            [
                OutboxEvent(
                    seq=20_000_000 + n,
                    type="jp.machi.t",
                    source="s",
                    subject=str(n),
                    time=NOW,
                    data={},
                )
                for n in range(5)
            ],
            using=using,
        )
        stored = OutboxEvent.objects.filter(seq__gte=20_000_000).order_by("id")
        assert [e.subject for e in stored] == ["0", "1", "2", "3", "4"]
        assert [e.seq for e in stored] == list(range(20_000_000, 20_000_005))


def test_a_deferred_transaction_takes_the_lock_at_its_first_statement(writers_db):  # noqa: F811
    """Before its first statement another writer goes in at once; after it, the other
    writer waits for the commit."""
    entered, inserted, release = threading.Event(), threading.Event(), threading.Event()
    marks = {}

    def holder():
        with deferred_begin(ALIAS), transaction.atomic(using=ALIAS):
            entered.set()
            inserted.wait(5)  # the other writer got in while we were "preparing"
            _insert(1)
            marks["holding"] = time.monotonic()
            release.wait(5)
            time.sleep(0.2)
            marks["committing"] = time.monotonic()

    def other():
        entered.wait(5)
        with transaction.atomic(using=ALIAS):
            _insert(0)
        inserted.set()
        while "holding" not in marks:
            time.sleep(0.001)
        release.set()
        with transaction.atomic(using=ALIAS):
            marks["in"] = time.monotonic()
            _insert(2)

    threads = [_in_thread(holder), _in_thread(other)]
    for thread in threads:
        thread.join(timeout=20)
    assert inserted.is_set()
    assert marks["in"] >= marks["committing"]
    assert _values() == [0, 1, 2]


def test_a_deferred_transaction_is_still_all_or_nothing(writers_db):  # noqa: F811
    with pytest.raises(RuntimeError), deferred_begin(ALIAS), transaction.atomic(using=ALIAS):
        _insert(1)
        _insert(2)
        raise RuntimeError("refused")
    with deferred_begin(ALIAS), transaction.atomic(using=ALIAS):
        pass  # no statement: nothing begun, nothing held
    done = threading.Event()

    def writer():
        with transaction.atomic(using=ALIAS):
            _insert(3)
        done.set()

    _in_thread(writer).join(timeout=20)
    assert done.is_set()
    assert _values() == [3]
    assert connections[ALIAS].begin_deferred is False


def _attributes(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.mark.django_db(databases="__all__")
def test_rows_new_makes_what_the_constructor_makes():
    jst = datetime.timezone(datetime.timedelta(hours=9))
    with tenant_context("131016"):
        using = current_tenant_alias()
        household = Household.objects.create(household_number="99999998")
        visit = Visit.objects.create(
            public_code="TEST-TEST-T2", event_type="move_in", event_date=datetime.date(2026, 4, 3),
            opened_at=NOW,
        )  # fmt: skip
        unsaved = _objects(3, household, visit, None)[Resident]
        cases = [
            (ResidentKey, {"resident": unsaved, "key": "タカハシヨシコ", "raw": "髙橋"}),
            (ResidentHistory, {
                "resident": unsaved, "change": "move_in", "changes": {"name": [None, "髙橋"]},
                "effective_on": parse_date("令和8年4月3日"), "filed_on": datetime.date(2026, 4, 3),
                "filing_kind": "filing", "staff_id": None, "staff_username": "",
            }),
            (Task, {
                "visit_id": visit.pk, "procedure_code": "kokuho", "title": "国保",
                "department": "hoken", "forms": ["kokuho_shutoku"], "status": TaskStatus.OPEN,
                "due": datetime.date(2026, 4, 17), "created_at": NOW.astimezone(jst),
            }),
            (OutboxEvent, {
                "seq": 30_000_000, "type": "jp.machi.test", "source": "/municipalities/131016",
                "subject": "S1", "time": NOW, "data": {"n": 1},
            }),
        ]  # fmt: skip
        for model, values in cases:
            built, expected = rows_new(model, values), model(**values)
            got, want = _attributes(built), _attributes(expected)
            for name in ("event_id", "created_at", "recorded_at"):  # defaults made per call
                if name not in values and name in want:
                    assert type(got.pop(name)) is type(want.pop(name))
            assert got == want, model.__name__
            assert built._state.adding and built._state.db is None
            if "resident" in values:
                assert built.resident is unsaved  # cached, no query: it has no pk yet
        unsaved.save()
        for model, values in cases:
            (fast,) = rows_insert(model, [rows_new(model, values)], using=using, returning=True)
            fast_row = _stored(model, fast.pk)
            fast.delete()  # the same row again (unique keys) through the ORM
            (orm,) = model.objects.using(using).bulk_create([model(**values)])
            orm_row = _stored(model, orm.pk)
            for name in ("seq", "event_id", "recorded_at"):
                fast_row.pop(name, None), orm_row.pop(name, None)
            assert fast_row == orm_row, model.__name__
        with pytest.raises(TypeError, match="no field nonsense"):
            rows_new(OutboxEvent, {"type": "jp.machi.test", "nonsense": 1})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_json_text_is_the_value_json_dumps_writes(value):
    assert json.loads(json_text(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    "value",
    [
        {"名前": "髙橋 𠮷子", "n": [1, 2.5, True, None]},
        2**70,  # beyond orjson's 64 bits: json.dumps writes it
        {1: "a", None: "b"},  # keys json.dumps turns into strings
        "\ud800",  # a lone surrogate
    ],
)
def test_json_text_reads_back_as_json_dumps_does(value):
    assert json.loads(json_text(value)) == json.loads(json.dumps(value))


def test_json_text_writes_null_for_what_json_has_no_number_for():
    assert json_text([float("nan"), float("inf"), -float("inf")]) == "[null,null,null]"


def test_json_text_is_compact_and_keeps_kanji():
    assert json_text({"name": "髙橋 𠮷子", "tasks": [1, 2]}) == '{"name":"髙橋 𠮷子","tasks":[1,2]}'


@pytest.mark.parametrize(
    "value",
    [datetime.date(2026, 4, 3), {"when": NOW}, [object()]],
    ids=["date", "datetime", "object"],
)
def test_json_text_refuses_what_json_dumps_refuses(value):
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        json_text(value)
