"""The migration import/export (DOMAIN.md §4–§5): validation, all-or-nothing, rejects,
外字, --update, round trip, isolation."""

from __future__ import annotations

import csv
import io

import pytest

from machi.audit.models import AuditEntry
from machi.japanese import parse_gaiji_map
from machi.linkage.models import OutboxEvent
from machi.registry.migration import (
    EVENT_TYPE,
    HEADER,
    ImportOptions,
    ImportRejected,
    RejectsWriter,
    registry_export,
    registry_import,
)
from machi.registry.models import (
    FilingKind,
    Household,
    NumberSequence,
    Resident,
    ResidentHistory,
    ResidentKey,
)
from machi.registry.mynumber import my_number_open
from machi.registry.numbers import next_number
from machi.registry.selectors import resident_search
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

MY_NUMBER = "123456789018"


def row(**values: str) -> dict[str, str]:
    base = {
        "宛名番号": "1000001",
        "世帯番号": "2000001",
        "住民種別": "1",
        "住民状態": "1",
        "氏名": "山田 太郎",
        "氏名_フリガナ": "やまだ たろう",
        "旧氏": "",
        "旧氏_フリガナ": "",
        "通称": "",
        "氏名_英字": "",
        "性別": "1",
        "生年月日": "昭和60年6月15日",
        "続柄": "世帯主",
        "郵便番号": "100-0001",
        "住所_都道府県": "東京都",
        "住所_市区町村": "千代田区",
        "住所_町字": "千代田",
        "住所_番地": "1-1",
        "住所_方書": "",
        "住民となった年月日": "平成元年1月8日",
        "住所を定めた年月日": "1989-01-08",
        "国籍": "",
        "個人番号": "",
    }
    base.update(values)
    return base


def family() -> list[dict[str, str]]:
    return [
        row(),
        row(**{"宛名番号": "1000002", "氏名": "山田 花子", "氏名_フリガナ": "ヤマダ ハナコ",
               "性別": "2", "続柄": "妻", "旧氏": "髙橋", "旧氏_フリガナ": "タカハシ",
               "生年月日": "S62.3.1", "個人番号": MY_NUMBER}),
        row(**{"宛名番号": "1000003", "氏名": "山田 一郎", "氏名_フリガナ": "ﾔﾏﾀﾞ ｲﾁﾛｳ",
               "続柄": "子", "生年月日": "平成3年2月30日"}),
        row(**{"宛名番号": "1000004", "世帯番号": "2000002", "住民種別": "2",
               "氏名": "SMITH JOHN", "氏名_フリガナ": "スミス ジョン", "氏名_英字": "SMITH JOHN",
               "通称": "\ufa10本 次郎", "国籍": "アメリカ合衆国", "生年月日": "1970-01-01"}),
    ]  # fmt: skip


def to_csv(
    rows: list[dict[str, str]],
    *,
    columns: list[str] | None = None,
    bom: bool = False,
    newline: str = "\n",
) -> bytes:
    columns = columns or list(rows[0] if rows else HEADER)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    data = out.getvalue().encode()
    return b"\xef\xbb\xbf" + data if bom else data


def run(data: bytes, lg_code: str = "131016", **options):
    rejects = options.pop("rejects", None)
    with tenant_context(lg_code):
        return registry_import(
            stream=io.BytesIO(data),
            file_name="test.csv",
            options=ImportOptions(**options),
            rejects=rejects,
        )


def problems_of(data: bytes, **options) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        run(data, **options)
    return [str(p) for p in info.value.problems]


def count(model, lg_code: str = "131016") -> int:
    with tenant_context(lg_code):
        return model.objects.count()


def snapshot(lg_code: str) -> list[dict]:
    """Every resident as comparable data (ids, timestamps and the cipher text excluded)."""
    with tenant_context(lg_code):
        residents = []
        for r in Resident.objects.select_related("household").order_by("atena_number"):
            data = {
                f.attname: getattr(r, f.attname)
                for f in Resident._meta.concrete_fields
                if f.attname not in {"id", "household_id", "updated_at", "my_number", "gaiji"}
            }
            data["household"] = r.household.household_number
            data["my_number"] = my_number_open(r.my_number)
            data["birth_date"] = r.birth_date.to_dict()
            for name in ("became_resident_on", "settled_on"):
                data[name] = getattr(r, name).to_dict() if getattr(r, name) else None
            data["keys"] = sorted(r.keys.values_list("key", "raw"))
            residents.append(data)
        return residents


# ---------------------------------------------------------------- a valid file


def test_valid_file_is_imported_with_history_keys_one_event_and_one_audit(municipality_a):
    events_before = count(OutboxEvent)
    audits_before = count(AuditEntry)
    result = run(to_csv(family()))
    assert (result.rows, result.created, result.rejected_rows) == (4, 4, 0)
    assert result.households_created == 2
    with tenant_context("131016"):
        assert Household.objects.count() == 2
        hanako = Resident.objects.get(atena_number="1000002")
        assert hanako.household.household_number == "2000001"
        assert hanako.former_surname == "髙橋"
        assert my_number_open(hanako.my_number) == MY_NUMBER
        assert MY_NUMBER not in hanako.my_number
        ichiro = Resident.objects.get(atena_number="1000003")
        assert ichiro.kana == "ヤマダ\u3000イチロウ"  # half-width → full-width katakana
        assert ichiro.birth_date.text == "平成3年2月30日"
        assert ichiro.birth_date.non_calendar
        assert str(ichiro.birth_date_approx) == "1991-02-28"
        taro = Resident.objects.get(atena_number="1000001")
        assert taro.kana == "ヤマダ\u3000タロウ"
        assert taro.postal_code == "1000001"
        assert taro.settled_on.text == "1989-01-08"
        smith = Resident.objects.get(atena_number="1000004")
        assert smith.alias == "\ufa10本 次郎"  # never NFKC'd
        assert smith.resident_type == "2"
        history = ResidentHistory.objects.filter(resident=taro).get()
        assert history.change == "migration"
        assert history.filing_kind == FilingKind.MIGRATION
        assert history.changes == {"import": result.import_id, "line": 2}
        assert ResidentKey.objects.filter(resident=taro).exists()
        events = list(OutboxEvent.objects.order_by("seq"))[events_before:]
        assert [e.type for e in events] == [EVENT_TYPE]
        assert events[0].subject == result.import_id
        assert events[0].data["created"] == 4
        assert "山田" not in str(events[0].data)
        audits = list(AuditEntry.objects.order_by("seq"))[audits_before:]
        assert [a.action for a in audits] == ["registry.imported"]
        assert audits[0].detail["file"] == "test.csv"
        assert audits[0].my_number_changed
        # the search finds imported residents through their keys (and 旧氏)
        assert {h.resident.atena_number for h in resident_search(query="高橋 花子").hits} == {
            "1000002"
        }
        assert {h.resident.atena_number for h in resident_search(query="塚本").hits} == {"1000004"}


def test_columns_in_any_order_and_optional_columns_may_be_missing(municipality_a):
    columns = ["氏名", "続柄", "生年月日", "性別", "住所_町字", "住所_市区町村",
               "住所_都道府県", "住民状態", "住民種別", "世帯番号", "宛名番号"]  # fmt: skip
    result = run(to_csv([row()], columns=columns))
    assert result.created == 1
    with tenant_context("131016"):
        resident = Resident.objects.get()
        assert resident.kana == "" and resident.became_resident_on is None


@pytest.mark.parametrize(("bom", "newline"), [(True, "\r\n"), (False, "\r\n"), (True, "\n")])
def test_bom_and_crlf(municipality_a, bom, newline):
    result = run(to_csv(family(), bom=bom, newline=newline))
    assert result.created == 4
    with tenant_context("131016"):
        assert Resident.objects.get(atena_number="1000001").name == "山田 太郎"
        assert not Resident.objects.filter(name__contains="\r").exists()


# ---------------------------------------------------------------- the header


def test_unknown_columns_are_named(municipality_a):
    rows = [{**row(), "謎の列": "x", "備考": "y"}]
    assert problems_of(to_csv(rows)) == ["line 1: 知らない列があります: 謎の列、備考"]


def test_a_missing_required_column_is_one_error_naming_it(municipality_a):
    columns = [c for c in HEADER if c != "生年月日"]
    problems = problems_of(to_csv(family(), columns=columns))
    assert problems == ["line 1, column 生年月日: 必須の列がありません"]


def test_empty_file(municipality_a):
    assert problems_of(b"") == ["line 1: 見出し行がありません（空のファイルです）"]


# ---------------------------------------------------------------- each rule


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        ({"宛名番号": ""}, "宛名番号", "入力してください"),
        ({"宛名番号": "12 34"}, "宛名番号", "半角の英数字"),
        ({"世帯番号": "x" * 21}, "世帯番号", "20文字まで"),
        ({"住民種別": "3"}, "住民種別", "1（日本人）か 2（外国人）"),
        ({"住民状態": "4"}, "住民状態", "9（消除）"),
        ({"住民状態": ""}, "住民状態", "入力してください"),
        ({"氏名": "　"}, "氏名", "入力してください"),
        ({"氏名": "山" * 101}, "氏名", "100文字までです（101文字）"),
        ({"氏名_フリガナ": "やまだ2"}, "氏名_フリガナ", "カタカナ以外の文字「2」"),
        ({"性別": "0"}, "性別", "1（男）か 2（女）"),
        ({"生年月日": ""}, "生年月日", "入力してください"),
        ({"生年月日": "平成32年1月1日"}, "生年月日", "平成32年はありません（平成は31年まで）"),
        ({"生年月日": "昭和60年13月1日"}, "生年月日", "13月はありません"),
        ({"生年月日": "きのう"}, "生年月日", ""),
        ({"住民となった年月日": "令和0年1月1日"}, "住民となった年月日", ""),
        ({"続柄": "孫"}, "続柄", "使えない語があります: 孫"),
        ({"続柄": "子の子の子の子の子"}, "続柄", "4つまで"),
        ({"続柄": ""}, "続柄", "続柄を入力してください"),
        ({"郵便番号": "12345"}, "郵便番号", "7桁"),
        ({"住所_都道府県": ""}, "住所_都道府県", "入力してください"),
        ({"住所_町字": ""}, "住所_町字", "入力してください"),
        ({"個人番号": "123456789012"}, "個人番号", "個人番号のチェックデジットが正しくありません"),
        ({"個人番号": "12345"}, "個人番号", "個人番号は12桁です"),
        ({"住民種別": "2", "国籍": ""}, "国籍", "外国人住民（住民種別 2）は国籍を入力してください"),
    ],
)
def test_each_rule(municipality_a, values, column, reason):
    rows = [row(), row(**{"宛名番号": "1000002", **values})]
    problems = problems_of(to_csv(rows))
    assert any(p.startswith(f"line 3, column {column}: ") and reason in p for p in problems), (
        problems
    )
    assert count(Resident) == 0


def test_accepted_dates_and_relationships(municipality_a):
    rows = [
        row(**{"宛名番号": str(1000001 + i), "生年月日": birth, "続柄": relation})
        for i, (birth, relation) in enumerate(
            [("年月日不詳", "世帯主"), ("昭和30年月日不詳", "子の妻"),
             ("昭和30年5月日不詳", "妻の父"), ("昭和30年頃", "夫(未届)"), ("R1.5.1", "妻（未届）"),
             ("１９８５－０６－１５", "縁故者"), ("明治5年12月2日", "同居人"),
             ("大正15年12月25日", "子の子の子の子")]
        )
    ]  # fmt: skip
    assert run(to_csv(rows)).created == len(rows)


def test_my_number_is_never_echoed(municipality_a):
    problems = problems_of(to_csv([row(**{"個人番号": "123456789012"})]))
    assert problems == ["line 2, column 個人番号: 個人番号のチェックデジットが正しくありません"]
    assert "123456789012" not in "".join(problems)


def test_every_problem_is_reported_with_its_physical_line(municipality_a):
    rows = [row(**{"氏名": "複数行の\n氏名"}), row(**{"宛名番号": "1000002", "性別": "9"}),
            row(**{"宛名番号": "1000003", "生年月日": "平成32年1月1日", "続柄": "孫"})]  # fmt: skip
    problems = problems_of(to_csv(rows))
    assert problems == [
        "line 4, column 性別: 性別は1（男）か 2（女）です（'9'）",
        "line 5, column 生年月日: 平成32年はありません（平成は31年まで）",
        "line 5, column 続柄: 続柄「孫」に使えない語があります: 孫",
    ]


def test_wrong_number_of_fields_and_bad_utf8(municipality_a):
    data = (
        to_csv([row()])
        + b"1000002,2000001\n"
        + to_csv([row(**{"宛名番号": "1000003"})])[len(to_csv([]).splitlines()[0]) + 1 :].replace(
            "山田".encode(), b"\xff\xfe"
        )
    )
    problems = problems_of(data)
    assert problems[0].startswith("line 3: 項目の数が見出しと違います（2個")
    assert problems[-1] == "line 4: UTF-8 として読めない文字があります"


def test_check_atena_digits_is_an_option(municipality_a):
    data = to_csv([row(**{"宛名番号": "12345675", "世帯番号": "12345674"})])
    problems = problems_of(data, check_atena_digits=True)
    assert problems == [
        "line 2, column 宛名番号: "
        "宛名番号のチェックデジットが正しくありません（末尾は 4 になるはずです）"
    ]
    assert run(data).created == 1  # off by default: legacy numbers keep their form


# ---------------------------------------------------------------- all or nothing


def test_one_invalid_row_rejects_the_whole_file(municipality_a):
    events, audits = count(OutboxEvent), count(AuditEntry)
    rows = [row(**{"宛名番号": str(1000000 + i)}) for i in range(1, 60)]
    rows[45]["生年月日"] = "平成32年1月1日"
    problems = problems_of(to_csv(rows))
    assert problems == ["line 47, column 生年月日: 平成32年はありません（平成は31年まで）"]
    assert (count(Resident), count(Household), count(ResidentKey)) == (0, 0, 0)
    assert (count(OutboxEvent), count(AuditEntry)) == (events, audits)


def test_all_or_nothing_across_write_batches(municipality_a, monkeypatch):
    from machi.registry.migration import importer

    monkeypatch.setattr(importer, "BATCH_ROWS", 10)
    rows = [row(**{"宛名番号": str(1000000 + i)}) for i in range(1, 100)]
    rows[-1]["性別"] = "x"
    problems_of(to_csv(rows))  # 90 rows were already written when the bad one came
    assert (count(Resident), count(Household), count(ResidentHistory)) == (0, 0, 0)
    rows[-1]["性別"] = "2"
    assert run(to_csv(rows)).created == 99


def test_skip_invalid_writes_valid_rows_and_rejects_the_others(municipality_a):
    rows = family()
    rows[1]["生年月日"] = "平成32年1月1日"
    rows[3]["個人番号"] = "123456789012"
    out = io.StringIO()
    result = run(to_csv(rows), skip_invalid=True, rejects=RejectsWriter(out))
    assert (result.created, result.rejected_rows) == (2, 2)
    with tenant_context("131016"):
        assert sorted(Resident.objects.values_list("atena_number", flat=True)) == [
            "1000001", "1000003",
        ]  # fmt: skip
    rejected = list(csv.reader(io.StringIO(out.getvalue())))
    assert rejected[0] == [*HEADER, "取込エラー"]
    assert [r[0] for r in rejected[1:]] == ["1000002", "1000004"]
    assert rejected[1][11] == "平成32年1月1日"  # the row as it was
    assert rejected[1][-1] == "line 3, column 生年月日: 平成32年はありません（平成は31年まで）"
    assert "123456789012" not in rejected[2][-1]
    # a corrected rejects file is imported as it is (the reasons column is ignored)
    rejected[1][11] = "平成31年1月1日"
    rejected[2][-2] = ""
    fixed = io.StringIO()
    csv.writer(fixed).writerows(rejected)
    assert run(fixed.getvalue().encode()).created == 2


# ---------------------------------------------------------------- numbers


def test_atena_number_unique_in_the_file_and_in_the_municipality(municipality_a):
    rows = [row(), row(**{"氏名": "山田 次郎"})]
    assert problems_of(to_csv(rows)) == ["line 3, column 宛名番号: 宛名番号が2行目と重複しています"]
    run(to_csv([row()]))
    assert problems_of(to_csv([row(**{"氏名": "別人"})])) == [
        "line 2, column 宛名番号: この宛名番号の住民は既に登録されています（更新するには --update）"
    ]


def test_update_changes_existing_records_with_a_history_row(municipality_a):
    run(to_csv(family()))
    rows = family()
    rows[0]["住所_番地"] = "2-2"  # moves
    rows[1]["氏名"] = "髙橋 花子"  # name
    rows[1]["個人番号"] = MY_NUMBER  # unchanged My Number is no change
    rows.append(row(**{"宛名番号": "1000005", "世帯番号": "2000003", "氏名": "新人 一"}))
    result = run(to_csv(rows), update=True)
    assert (result.created, result.updated, result.unchanged) == (1, 2, 2)
    assert result.households_created == 1
    with tenant_context("131016"):
        taro = Resident.objects.get(atena_number="1000001")
        assert taro.banchi == "2-2"
        change = taro.history.order_by("-id").first()
        assert change.change == "migration"
        assert change.changes["banchi"] == ["1-1", "2-2"]
        hanako = Resident.objects.get(atena_number="1000002")
        assert "my_number" not in hanako.history.order_by("-id").first().changes
        assert next(h.resident.atena_number for h in resident_search(query="髙橋花子").hits) == (
            "1000002"
        )
        assert Resident.objects.count() == 5


def test_number_sequence_moves_past_imported_numbers(municipality_a):
    # serials 3 and 1 with their check digits (the issued form)
    run(to_csv([row(**{"宛名番号": "00000035", "世帯番号": "00000019"})]))
    with tenant_context("131016"):
        assert NumberSequence.objects.get(kind="atena").last == 3
        assert next_number(kind="atena") == "00000043"
        assert next_number(kind="household") == "00000027"


# ---------------------------------------------------------------- 外字


GAIJI_MAP = "code,char,evidence\nU+E001,髙,戸籍謄本 令和6年4月\nU+E002,葛\U000e0100,住民票原票\n"


def test_gaiji_map_is_applied_and_the_evidence_kept(municipality_a):
    rows = [row(**{"氏名": "\ue001橋 太郎", "住所_方書": "\ue002城ハイツ"})]
    result = run(to_csv(rows), gaiji_map=parse_gaiji_map(GAIJI_MAP))
    assert result.gaiji_replacements == 2
    with tenant_context("131016"):
        resident = Resident.objects.get()
        assert resident.name == "髙橋 太郎"
        assert resident.katagaki == "葛\U000e0100城ハイツ"
        assert resident.gaiji == [
            {"column": "氏名", "index": 0, "code": "U+E001", "char": "髙",
             "evidence": "戸籍謄本 令和6年4月"},
            {"column": "住所_方書", "index": 0, "code": "U+E002", "char": "葛\U000e0100",
             "evidence": "住民票原票"},
        ]  # fmt: skip
        assert {h.resident.name for h in resident_search(query="高橋").hits} == {"髙橋 太郎"}


def test_unmapped_private_use_characters_are_reported_everywhere(municipality_a):
    rows = [
        row(**{"氏名": "\ue001橋 \ue009"}),
        row(**{"宛名番号": "1000002", "住所_町字": "\ue009町"}),
        row(**{"宛名番号": "1000003"}),
    ]
    gaiji_map = parse_gaiji_map(GAIJI_MAP)
    with pytest.raises(ImportRejected) as info:
        run(to_csv(rows), gaiji_map=gaiji_map)
    assert [str(p) for p in info.value.problems] == [
        "line 2, column 氏名: 外字 U+E009（4文字目）が外字マップにありません",
        "line 3, column 住所_町字: 外字 U+E009（1文字目）が外字マップにありません",
    ]
    assert info.value.result.unmapped_gaiji == {"U+E009": 2}
    without_map = problems_of(to_csv(rows))
    assert without_map[0] == "line 2, column 氏名: 外字 U+E001 が外字マップにありません"
    assert len(without_map) == 3


# ---------------------------------------------------------------- export, round trip


def test_export_round_trip_into_the_other_municipality(municipality_a, municipality_b):
    rows = family()
    rows[0]["氏名"] = "\ue001橋 太郎"
    run(to_csv(rows), gaiji_map=parse_gaiji_map(GAIJI_MAP))
    out = io.StringIO()
    with tenant_context("131016"):
        summary = registry_export(stream=out, file_name="out.csv")
    assert (summary.rows, summary.my_numbers) == (4, 1)
    text = out.getvalue()
    assert text.startswith(",".join(HEADER) + "\r\n")
    assert "平成3年2月30日" in text and "S62.3.1" in text and MY_NUMBER in text
    run(text.encode(), lg_code="271403")
    assert snapshot("271403") == snapshot("131016")
    # and back again: export → import → export gives the same file
    again = io.StringIO()
    with tenant_context("271403"):
        registry_export(stream=again, file_name="again.csv")
    assert again.getvalue() == text
    with tenant_context("131016"):
        entry = AuditEntry.objects.filter(action="registry.exported").get()
        assert entry.my_number_shown
        assert entry.detail["rows"] == 4


def test_export_jis0208_degrades_and_reports_but_never_writes_back(municipality_a):
    rows = [row(**{"氏名": "𠮷田 髙志", "住所_方書": "葛\U000e0100城"})]
    run(to_csv(rows))
    out = io.StringIO()
    with tenant_context("131016"):
        summary = registry_export(stream=out, file_name="jis.csv", jis0208=True)
        assert Resident.objects.get().name == "𠮷田 髙志"
    exported = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert exported[4] == "吉田 高志"
    assert exported[18] == "葛城"
    assert [str(x) for x in summary.lossy] == [
        "line 2, column 氏名: 𠮷（U+20BB7）→ 吉",
        "line 2, column 氏名: 髙（U+9AD9）→ 高",
        "line 2, column 住所_方書: 葛\U000e0100（U+845B U+E0100）→ 葛",
    ]


# ---------------------------------------------------------------- isolation


def test_an_import_touches_only_its_municipality(municipality_a, municipality_b):
    before_b = (
        count(Resident, "271403"),
        count(OutboxEvent, "271403"),
        count(AuditEntry, "271403"),
    )
    run(to_csv(family()))
    assert count(Resident, "131016") == 4
    assert (
        count(Resident, "271403"),
        count(OutboxEvent, "271403"),
        count(AuditEntry, "271403"),
    ) == before_b
    with tenant_context("271403"):
        assert resident_search(query="山田").total == 0
    # the same atena numbers are free in the other municipality
    assert run(to_csv(family()), lg_code="271403").created == 4


# ---------------------------------------------------------------- the forked reader


@pytest.fixture
def parallel(monkeypatch):
    """Large-file mode at a small scale: a forked reader after 6 rows, batches of 7."""
    from machi.registry.migration import importer

    monkeypatch.setattr(importer, "PARALLEL_PROBE_ROWS", 3)
    monkeypatch.setattr(importer, "PARALLEL_MIN_ROWS", 6)
    monkeypatch.setattr(importer, "BATCH_ROWS", 7)
    monkeypatch.setattr(importer, "UPDATE_BATCH_ROWS", 4)
    forks = []
    real = importer._Reader

    def reader(*args):
        forks.append(real(*args))
        return forks[-1]

    monkeypatch.setattr(importer, "_Reader", reader)
    return forks


def many(count: int) -> list[dict[str, str]]:
    return [
        row(**{"宛名番号": f"{1000001 + i}", "世帯番号": f"{2000001 + i // 3}",
               "氏名": f"山田 太郎{i}", "個人番号": MY_NUMBER if i % 2 else ""})
        for i in range(count)
    ]  # fmt: skip


def test_a_large_file_is_read_by_a_forked_process_with_the_same_result(
    municipality_a, municipality_b, parallel
):
    from machi.registry.migration import importer

    rows = many(40)
    result = run(to_csv(rows))
    assert len(parallel) == 1  # the forked reader was used
    assert (result.rows, result.created, result.households_created) == (40, 40, 14)
    assert result.my_numbers == 20
    importer.PARALLEL = False
    try:
        serial = run(to_csv(rows), lg_code="271403")
    finally:
        importer.PARALLEL = True
    assert len(parallel) == 1
    assert (serial.rows, serial.created, serial.my_numbers) == (40, 40, 20)
    assert snapshot("131016") == snapshot("271403")
    with tenant_context("131016"):
        lines = sorted(h.changes["line"] for h in ResidentHistory.objects.all())
        assert lines == list(range(2, 42))
        assert OutboxEvent.objects.filter(type=EVENT_TYPE).count() == 1


def test_the_forked_reader_reports_every_problem_and_writes_nothing(municipality_a, parallel):
    rows = many(40)
    rows[3]["性別"] = "x"  # read before the fork
    rows[20]["生年月日"] = "平成32年1月1日"
    rows[35]["宛名番号"] = rows[30]["宛名番号"]
    with pytest.raises(ImportRejected) as info:
        run(to_csv(rows))
    assert len(parallel) == 1
    assert [str(p) for p in info.value.problems] == [
        "line 5, column 性別: 性別は1（男）か 2（女）です（'x'）",
        "line 22, column 生年月日: 平成32年はありません（平成は31年まで）",
        "line 37, column 宛名番号: 宛名番号が32行目と重複しています",
    ]
    assert info.value.result.rows == 40
    assert (count(Resident), count(Household), count(ResidentKey)) == (0, 0, 0)


def test_the_forked_reader_with_skip_invalid_rejects_and_update(municipality_a, parallel):
    rows = many(40)
    rows[25]["続柄"] = "孫"
    out = io.StringIO()
    result = run(to_csv(rows), skip_invalid=True, rejects=RejectsWriter(out))
    assert (result.created, result.rejected_rows) == (39, 1)
    rejected = list(csv.reader(io.StringIO(out.getvalue())))
    assert [r[0] for r in rejected[1:]] == [rows[25]["宛名番号"]]
    rows[25]["続柄"] = "子"
    rows[30]["住所_番地"] = "9-9"
    result = run(to_csv(rows), update=True)
    assert len(parallel) == 2
    assert (result.created, result.updated, result.unchanged) == (1, 1, 38)
    with tenant_context("131016"):
        assert Resident.objects.get(atena_number=rows[30]["宛名番号"]).banchi == "9-9"


def test_a_failing_forked_reader_stops_the_import(municipality_a, parallel, monkeypatch):
    from machi.registry.migration import write

    real = write.BulkWriter.prepare

    def prepare(self, record):
        if record["line"] == 30:
            raise RuntimeError("boom")
        return real(self, record)

    monkeypatch.setattr(write.BulkWriter, "prepare", prepare)
    with pytest.raises(RuntimeError, match="boom"):
        run(to_csv(many(40)))
    assert (count(Resident), count(Household)) == (0, 0)
