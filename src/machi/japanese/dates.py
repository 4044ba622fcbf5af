"""和暦 (Japanese eras) and dates as written in a register (DOMAIN.md §3).

>>> d = parse_date("昭和60年6月15日")
>>> d.approx, d.unknown
(datetime.date(1985, 6, 15), False)
>>> parse_date("S60.06.15") == parse_date("S60.6.15").replace_text("S60.06.15")
True
>>> parse_date("昭和30年5月日不詳").approx
datetime.date(1955, 5, 1)
>>> parse_date("平成3年2月30日").non_calendar, parse_date("平成3年2月30日").approx
(True, datetime.date(1991, 2, 28))
>>> day = datetime.date(2025, 4, 1)
>>> format_wareki(day), format_wareki(day, style="letter")
('令和7年4月1日', 'R7.4.1')
>>> format_wareki(datetime.date(2019, 5, 1))
'令和元年5月1日'
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = [
    "ERAS",
    "GREGORIAN_START",
    "DateParseError",
    "Era",
    "JapaneseDate",
    "canonical_date",
    "era_by_key",
    "era_of",
    "format_date",
    "format_datetime",
    "format_seireki",
    "format_wareki",
    "parse_date",
]

WarekiStyle = Literal["kanji", "letter"]
SeirekiStyle = Literal["iso", "kanji"]


@dataclass(frozen=True, slots=True)
class Era:
    """One 元号. ``start`` and ``end`` are Gregorian and inclusive."""

    key: str
    name: str
    letter: str
    start: datetime.date
    end: datetime.date | None

    @property
    def first_year(self) -> int:
        """Gregorian year of 元年."""
        return self.start.year

    @property
    def last_year(self) -> int | None:
        """The last era year (平成 → 31), ``None`` for the current era."""
        return None if self.end is None else self.end.year - self.start.year + 1

    def contains(self, day: datetime.date) -> bool:
        """``True`` when *day* may be written in this era (overlap days included)."""
        return self.start <= day and (self.end is None or day <= self.end)


#: The five modern eras. 明治 starts on 1868-01-25, i.e. 明治元年1月1日 of the
#: lunisolar calendar; the overlap days 1912-07-30 and 1926-12-25 belong to both
#: neighbours.
ERAS: Final[tuple[Era, ...]] = (
    Era("meiji", "明治", "M", datetime.date(1868, 1, 25), datetime.date(1912, 7, 30)),
    Era("taisho", "大正", "T", datetime.date(1912, 7, 30), datetime.date(1926, 12, 25)),
    Era("showa", "昭和", "S", datetime.date(1926, 12, 25), datetime.date(1989, 1, 7)),
    Era("heisei", "平成", "H", datetime.date(1989, 1, 8), datetime.date(2019, 4, 30)),
    Era("reiwa", "令和", "R", datetime.date(2019, 5, 1), None),
)

#: The Gregorian calendar was adopted on 明治6年1月1日 = 1873-01-01; earlier
#: dates written in 和暦 are lunisolar and are kept as written.
GREGORIAN_START: Final = datetime.date(1873, 1, 1)

_BY_KEY: Final = {e.key: e for e in ERAS}
#: Also the one-kanji abbreviations written on forms (令8.12.1, 昭60年6月15日).
_BY_NAME: Final = (
    {e.name: e for e in ERAS} | {e.name[0]: e for e in ERAS} | {e.letter: e for e in ERAS}
)


def era_by_key(key: str) -> Era:
    """The era for ``"showa"``, ``"昭和"`` or ``"S"`` (case-insensitive letter)."""
    era = _BY_KEY.get(key) or _BY_NAME.get(key) or _BY_NAME.get(key.upper())
    if era is None:
        raise KeyError(key)
    return era


def era_of(day: datetime.date) -> Era:
    """The era of a Gregorian date; on an overlap day, the *new* era.

    >>> era_of(datetime.date(1912, 7, 30)).name
    '大正'
    """
    for era in reversed(ERAS):
        if era.start <= day:
            return era
    raise ValueError(f"{day.isoformat()} は明治より前の日付です")


class DateParseError(ValueError):
    """A date text is not one of the accepted forms, or names an impossible date.

    :attr:`reason` is ``"format"`` (not a known form), ``"range"`` (month or day
    out of range) or ``"era"`` (outside the era, e.g. 平成32年).
    """

    def __init__(self, message: str, *, reason: str, text: str) -> None:
        super().__init__(f"{message}: {text!r}")
        #: The reason alone, for a form error that names its own field.
        self.message = message
        self.reason = reason
        self.text = text


def _month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass(frozen=True, slots=True)
class JapaneseDate:
    """A date as written in a register: possibly 不詳, approximate or non-calendar.

    Build one with :func:`parse_date`, :meth:`from_date` or directly from its
    parts (the constructor validates them). ``year`` is the era year when
    ``era`` is set (``"showa"``…), else the Gregorian year. The derived fields
    are computed:

    * ``unknown`` — a part is missing or the date is only approximate (頃);
    * ``non_calendar`` — the day is past the month's end (平成3年2月30日);
    * ``lunisolar`` — a 明治 date before 明治6年 (the old calendar): kept as
      written, its ``approx`` is the naive Gregorian reading;
    * ``approx`` — the sortable approximate date (missing month → 1, missing
      day → 1, day past the month's end → the last day); ``None`` only when
      the year is unknown (年月日不詳).

    >>> JapaneseDate(text="昭和30年頃", era="showa", year=30, circa=True).approx
    datetime.date(1955, 1, 1)
    """

    text: str
    era: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    circa: bool = False
    unknown: bool = field(init=False)
    non_calendar: bool = field(init=False)
    lunisolar: bool = field(init=False)
    approx: datetime.date | None = field(init=False)

    def __post_init__(self) -> None:
        text = self.text
        if self.month is not None and self.year is None:
            raise DateParseError(
                "年が不詳で月だけがある日付は扱えません", reason="format", text=text
            )
        if self.day is not None and self.month is None:
            raise DateParseError(
                "月が不詳で日だけがある日付は扱えません", reason="format", text=text
            )
        if self.month is not None and not 1 <= self.month <= 12:
            raise DateParseError(f"{self.month}月はありません", reason="range", text=text)
        if self.day is not None and not 1 <= self.day <= 31:
            raise DateParseError(f"{self.day}日はありません", reason="range", text=text)
        era = None
        if self.era is not None:
            era = _BY_KEY.get(self.era)
            if era is None:
                raise DateParseError(f"元号 {self.era!r} は扱えません", reason="format", text=text)
            if self.year is None:
                raise DateParseError(
                    "元号だけで年がない日付は扱えません", reason="format", text=text
                )
        lunisolar = False
        approx = None
        non_calendar = False
        if self.year is not None:
            if era is not None:
                if self.year < 1 or (era.last_year is not None and self.year > era.last_year):
                    bound = "元年から" if self.year < 1 else f"{era.last_year}年まで"
                    raise DateParseError(
                        f"{era.name}{self.year}年はありません（{era.name}は{bound}）",
                        reason="era",
                        text=text,
                    )
                g_year = era.first_year + self.year - 1
            else:
                g_year = self.year
                if not 1 <= g_year <= 9999:
                    raise DateParseError(f"{g_year}年は扱えません", reason="range", text=text)
            lunisolar = era is not None and g_year < GREGORIAN_START.year
            month = self.month or 1
            length = 30 if lunisolar else _month_length(g_year, month)
            if self.day is not None and self.day > length:
                non_calendar = True
            day = min(self.day or 1, _month_length(g_year, month))
            approx = datetime.date(g_year, month, day)
            if era is not None and not lunisolar:
                _check_within_era(era, g_year, self.month, self.day, text)
        object.__setattr__(self, "lunisolar", lunisolar)
        object.__setattr__(self, "non_calendar", non_calendar)
        object.__setattr__(self, "approx", approx)
        object.__setattr__(
            self, "unknown", self.circa or self.day is None or self.month is None or approx is None
        )

    # ------------------------------------------------------------ constructors

    @classmethod
    def from_date(cls, day: datetime.date, *, text: str | None = None) -> JapaneseDate:
        """A complete Gregorian date (``text`` defaults to its ISO form)."""
        if isinstance(day, datetime.datetime):
            day = day.date()
        return cls(
            text=day.isoformat() if text is None else text,
            year=day.year,
            month=day.month,
            day=day.day,
        )

    def replace_text(self, text: str) -> JapaneseDate:
        """The same date with another ``text``."""
        return dataclasses.replace(self, text=text)

    # ------------------------------------------------------------ views

    @property
    def is_exact(self) -> bool:
        """``True`` for a complete, real calendar date (``approx`` is that date)."""
        return not self.unknown and not self.non_calendar and not self.lunisolar

    @property
    def interchange(self) -> str:
        """What other systems read: the ISO date of a real calendar day, else the text
        (a 不詳, non-calendar or lunisolar date has no ISO form).

        >>> parse_date("R8.12.1").interchange, parse_date("昭和30年頃").interchange
        ('2026-12-01', '昭和30年頃')
        """
        return self.approx.isoformat() if self.is_exact and self.approx else self.text

    @property
    def sort_key(self) -> tuple[bool, datetime.date, str]:
        """Sorts by the approximate date; dates with an unknown year come last."""
        return (self.approx is None, self.approx or datetime.date.min, self.text)

    def __str__(self) -> str:
        return self.text

    # ------------------------------------------------------------ storage

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``approx`` is an ISO string (or ``None``).

        >>> parse_date("昭和30年頃").to_dict()["approx"]
        '1955-01-01'
        """
        return {
            "text": self.text,
            "era": self.era,
            "year": self.year,
            "month": self.month,
            "day": self.day,
            "circa": self.circa,
            "unknown": self.unknown,
            "non_calendar": self.non_calendar,
            "lunisolar": self.lunisolar,
            "approx": None if self.approx is None else self.approx.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JapaneseDate:
        """Rebuild from :meth:`to_dict` output; the derived fields are recomputed
        and must agree with the stored ones when present."""
        value = cls(
            text=data["text"],
            era=data.get("era"),
            year=data.get("year"),
            month=data.get("month"),
            day=data.get("day"),
            circa=bool(data.get("circa", False)),
        )
        stored = value.to_dict()
        for name in ("unknown", "non_calendar", "lunisolar", "approx"):
            if name in data and data[name] != stored[name]:
                raise ValueError(f"stored {name}={data[name]!r} disagrees with {stored[name]!r}")
        return value


def _check_within_era(era: Era, g_year: int, month: int | None, day: int | None, text: str) -> None:
    """Reject parts outside the era; a missing part may be anywhere in its range."""
    low = (era.start.year, era.start.month, era.start.day)
    high = (9999, 12, 31) if era.end is None else (era.end.year, era.end.month, era.end.day)
    parts = (g_year, month, day)
    known = tuple(p for p in parts if p is not None)
    n = len(known)
    if not low[:n] <= known <= high[:n]:
        start = (1, 1) if era.key == "meiji" else (era.start.month, era.start.day)
        first = f"{era.name}元年{start[0]}月{start[1]}日"
        last = (
            ""
            if era.end is None
            else f"{era.name}{era.last_year}年{era.end.month}月{era.end.day}日"
        )
        raise DateParseError(
            _era_bound_message(era, known, low, first, last), reason="era", text=text
        )


def _era_bound_message(
    era: Era,
    known: tuple[int, ...],
    low: tuple[int, int, int],
    first: str,
    last: str,
) -> str:
    """Why a date is outside its era, and how it is written in the right one.

    >>> _era_bound_message(ERAS[4], (2019, 4, 1), (2019, 5, 1), "令和元年5月1日", "")
    '令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）'
    """
    before = known < low[: len(known)]
    if before and known[0] == era.start.year:
        reason = f"{era.name}元年は{era.start.month}月{era.start.day}日からです"
    elif before:
        reason = f"{era.name}は{first}からです"
    else:
        reason = f"{era.name}は{last}までです"
    if len(known) < 3:
        return reason
    day = datetime.date(*known)
    if day < ERAS[0].start:
        return reason
    written_year = known[0] - era.first_year + 1
    written = f"{era.name}{'元' if written_year == 1 else written_year}年{known[1]}月{known[2]}日"
    return f"{reason}（{written}は{format_wareki(day)}）"


# ---------------------------------------------------------------- parsing

_ERA_NAMES = "明治|大正|昭和|平成|令和|明|大|昭|平|令"
_KANJI_FORM: Final = re.compile(
    rf"(?P<era>{_ERA_NAMES}|[MTSHR])?(?P<year>元|\d{{1,4}})年"
    r"(?:(?P<month>\d{1,2})月)?(?:(?P<day>\d{1,2})日)?"
    r"(?P<suffix>月日不詳|日不詳|不詳|頃)?",
    re.IGNORECASE,
)
_DOTTED_FORM: Final = re.compile(
    rf"(?P<era>{_ERA_NAMES}|[MTSHR])(?P<year>元|\d{{1,2}})(?P<sep>[./-])"
    r"(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})",
    re.IGNORECASE,
)
_ISO_FORM: Final = re.compile(
    r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
    r"|(?P<year8>\d{4})(?P<month8>\d{2})(?P<day8>\d{2})"
)
_ALL_UNKNOWN: Final = re.compile(r"(?:年月日)?不詳")
_SPACES: Final = re.compile(r"\s+")


def _era_key(token: str | None) -> str | None:
    return None if token is None else era_by_key(token).key


def _year(token: str) -> int:
    return 1 if token == "元" else int(token)  # noqa: S105 (not a password)


def parse_date(text: str) -> JapaneseDate:
    """Parse a date in any form of DOMAIN.md §3, keeping *text* as written.

    Accepted: ``昭和60年6月15日``, ``令和元年5月1日``, ``S60.6.15``,
    ``S60.06.15``, ``R1.5.1`` (also ``/`` or ``-`` as separators), full-width
    digits and letters, ``1985-06-15`` (also ``1985/6/15``, ``19850615``),
    ``1985年6月15日``, the 不詳 forms ``年月日不詳``, ``昭和30年月日不詳``,
    ``昭和30年5月日不詳``, ``昭和30年頃``, a missing tail (``昭和30年5月``), and
    non-calendar days (``平成3年2月30日``). Raises :class:`DateParseError`.

    >>> parse_date("令和元年5月1日").approx
    datetime.date(2019, 5, 1)
    >>> parse_date("平成32年1月1日")
    Traceback (most recent call last):
      ...
    machi.japanese.dates.DateParseError: 平成32年はありません（平成は31年まで）: '平成32年1月1日'
    """
    if not isinstance(text, str):
        raise TypeError(f"date text must be a str, not {type(text).__name__}")
    clean = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    if not clean:
        raise DateParseError("日付が空です", reason="format", text=text)
    if _ALL_UNKNOWN.fullmatch(clean):
        return JapaneseDate(text=text)
    if m := _ISO_FORM.fullmatch(clean):
        year, month, day = (
            (m["year"], m["month"], m["day"]) if m["year"] else (m["year8"], m["month8"], m["day8"])
        )
        return JapaneseDate(text=text, year=int(year), month=int(month), day=int(day))
    if m := _DOTTED_FORM.fullmatch(clean):
        return JapaneseDate(
            text=text,
            era=_era_key(m["era"]),
            year=_year(m["year"]),
            month=int(m["month"]),
            day=int(m["day"]),
        )
    if m := _KANJI_FORM.fullmatch(clean):
        era, year, month, day, suffix = m["era"], m["year"], m["month"], m["day"], m["suffix"]
        if era is None and (year == "元" or len(year) != 4):
            raise DateParseError(
                "元号のない年は西暦4桁で書いてください", reason="format", text=text
            )
        if (
            (suffix == "月日不詳" and month is not None)
            or (suffix == "日不詳" and (month is None or day is not None))
            or (suffix == "不詳" and day is not None)
        ):
            raise DateParseError("不詳の書き方が日付と合いません", reason="format", text=text)
        return JapaneseDate(
            text=text,
            era=_era_key(era),
            year=_year(year),
            month=None if month is None else int(month),
            day=None if day is None else int(day),
            circa=suffix == "頃",
        )
    raise DateParseError(
        "日付の形式が正しくありません"
        "（例: 昭和60年6月15日, S60.6.15, 1985-06-15, 昭和30年月日不詳）",
        reason="format",
        text=text,
    )


def canonical_date(value: JapaneseDate | datetime.date) -> JapaneseDate:
    """*value* written the one way the office writes it, for a date staff typed.

    The ``text`` becomes the 和暦 of :func:`format_wareki` (``R8.12.1`` →
    ``令和8年12月1日``, ``s30.5`` → ``昭和30年5月日不詳``, ``1991-02-30`` →
    ``平成3年2月30日``) and the parts are read back from it, so text and parts agree.
    Two cases keep their 西暦 in the kanji form, because a 和暦 would state more than
    was typed: a 西暦 day before 明治6年 (no 和暦 reading), and an incomplete 西暦 date
    whose possible days span two eras (``1989年月日不詳`` is not ``昭和64年月日不詳``).
    Records imported as written (外字, lunisolar 明治) do not go through this.

    >>> canonical_date(parse_date("R8.12.1")).text
    '令和8年12月1日'
    >>> canonical_date(parse_date("2019年月日不詳")).text
    '2019年月日不詳'
    """
    jd = JapaneseDate.from_date(value) if isinstance(value, datetime.date) else value
    if jd.era is None and jd.approx is not None and not _one_era(jd):
        if jd.approx.year < 1000:
            return jd  # 西暦 without an era must have 4 digits to be read back
        return parse_date(format_seireki(jd, style="kanji"))
    return parse_date(format_wareki(jd))


def _one_era(jd: JapaneseDate) -> bool:
    """Whether every day a 西暦 date may stand for lies in one era (from 明治6年)."""
    assert jd.approx is not None and jd.year is not None
    first = jd.approx
    if first < GREGORIAN_START:
        return False
    if jd.month is None:
        last = datetime.date(jd.year, 12, 31)
    elif jd.day is None:
        last = datetime.date(jd.year, jd.month, _month_length(jd.year, jd.month))
    else:
        return True
    return era_of(first) == era_of(last) or era_of(first).contains(last)


# ---------------------------------------------------------------- formatting


def _as_parts(value: datetime.date | JapaneseDate) -> JapaneseDate:
    if isinstance(value, JapaneseDate):
        return value
    if isinstance(value, datetime.date):
        return JapaneseDate.from_date(value)
    raise TypeError(f"expected a date or JapaneseDate, not {type(value).__name__}")


def _wareki_parts(value: JapaneseDate) -> tuple[Era, int] | None:
    """(era, era year) of a date; ``None`` when the year is unknown."""
    if value.era is not None:
        assert value.year is not None
        return _BY_KEY[value.era], value.year
    if value.approx is None:
        return None
    if value.approx < GREGORIAN_START:
        raise ValueError(
            f"{value.approx.year}年は太陽暦採用（明治6年）より前のため和暦に変換できません"
        )
    era = era_of(value.approx)
    return era, value.approx.year - era.first_year + 1


def _tail(month: int | None, day: int | None, circa: bool) -> str:
    if circa:
        return ("" if month is None else f"{month}月") + ("" if day is None else f"{day}日") + "頃"
    if month is None:
        return "月日不詳"
    if day is None:
        return f"{month}月日不詳"
    return f"{month}月{day}日"


def format_wareki(value: datetime.date | JapaneseDate, *, style: WarekiStyle = "kanji") -> str:
    """Format in 和暦: ``令和7年4月1日`` (``style="kanji"``) or ``R7.4.1`` (``"letter"``).

    The first year is 元年 in the kanji style and 1 in the letter style. An
    overlap day is written in the new era (1912-07-30 → 大正元年7月30日). A
    :class:`JapaneseDate` keeps its own era and its 不詳/頃/non-calendar parts
    (``昭和30年5月日不詳``); the letter style needs a complete date.

    >>> format_wareki(parse_date("1955年頃"))
    '昭和30年頃'
    """
    jd = _as_parts(value)
    parts = _wareki_parts(jd)
    if parts is None:
        if style == "letter":
            raise ValueError("年月日不詳の日付は略号形式で書けません")
        return "年月日不詳"
    era, year = parts
    month, day = jd.month, jd.day
    if style == "letter":
        if month is None or day is None or jd.circa:
            raise ValueError("不詳・頃の日付は略号形式（R7.4.1）で書けません")
        return f"{era.letter}{year}.{month}.{day}"
    if style != "kanji":
        raise ValueError(f"unknown style {style!r}")
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{_tail(month, day, jd.circa)}"


def format_seireki(value: datetime.date | JapaneseDate, *, style: SeirekiStyle = "iso") -> str:
    """Format in 西暦: ``1985-06-15`` (``"iso"``) or ``1985年6月15日`` (``"kanji"``).

    An incomplete date gives the reduced ISO forms ``1955`` / ``1955-05`` (the
    頃 mark is lost in ISO form; keep ``text``), or ``1955年5月日不詳`` in the
    kanji style. A non-calendar day keeps its number (``1991-02-30``).
    Lunisolar 明治 dates cannot be converted exactly and raise ``ValueError``.

    >>> format_seireki(parse_date("昭和30年5月日不詳"))
    '1955-05'
    """
    jd = _as_parts(value)
    if jd.lunisolar:
        raise ValueError("明治5年以前の日付（太陰太陽暦）は西暦に正確に変換できません")
    if jd.approx is None:
        if style == "iso":
            raise ValueError("年月日不詳の日付はISO形式で書けません")
        return "年月日不詳"
    year = jd.approx.year
    if style == "iso":
        out = f"{year:04d}"
        if jd.month is not None:
            out += f"-{jd.month:02d}"
            if jd.day is not None:
                out += f"-{jd.day:02d}"
        return out
    if style != "kanji":
        raise ValueError(f"unknown style {style!r}")
    return f"{year}年{_tail(jd.month, jd.day, jd.circa)}"


_MONTHS_EN: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def format_date(
    value: datetime.date | JapaneseDate | None,
    *,
    both: bool = False,
    language: str = "ja",
) -> str:
    """The one display form of a date on every screen, PDF, public page and CSV.

    Japanese: 和暦 (``令和8年12月1日``); with ``both`` the 西暦 follows in
    brackets (``令和8年12月1日（2026年12月1日）``), for staff who need both.
    English (``language`` starting with ``en``): ``1 Dec 2026``, incomplete
    dates as ``Dec 1955`` / ``1955`` with ``c.`` for 頃 and ``unknown`` for
    年月日不詳. A non-calendar or lunisolar register date is shown in 和暦
    only, since no 西暦 day corresponds to it. ``None`` gives ``""``.

    >>> day = datetime.date(2026, 12, 1)
    >>> format_date(day), format_date(day, both=True), format_date(day, language="en")
    ('令和8年12月1日', '令和8年12月1日（2026年12月1日）', '1 Dec 2026')
    """
    if value is None:
        return ""
    jd = _as_parts(value)
    if language.lower().startswith("en"):
        return _format_english(jd)
    if jd.era is None and jd.approx is not None and not _one_era(jd):
        # Before 明治6年 a 西暦 date has no 和暦 reading (the calendar differed), and
        # an incomplete 西暦 date spanning two eras (2019年月日不詳) would gain an era.
        return format_seireki(jd, style="kanji")
    wareki = format_wareki(jd)
    if not both or jd.approx is None or jd.lunisolar or jd.non_calendar:
        return wareki
    return f"{wareki}（{format_seireki(jd, style='kanji')}）"


def format_datetime(
    value: datetime.datetime,
    *,
    both: bool = False,
    language: str = "ja",
    seconds: bool = False,
) -> str:
    """A moment (audit entry, 受付日時, 発券) as :func:`format_date` plus the clock time.

    The time is the wall-clock time of *value* as given: the caller converts an aware
    datetime to the office's time zone first (the ``jdate`` filter does).

    >>> moment = datetime.datetime(2026, 12, 1, 14, 5, 9)
    >>> format_datetime(moment), format_datetime(moment, language="en", seconds=True)
    ('令和8年12月1日 14:05', '1 Dec 2026 14:05:09')
    >>> format_datetime(moment, both=True)
    '令和8年12月1日（2026年12月1日） 14:05'
    """
    clock = value.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{format_date(value.date(), both=both, language=language)} {clock}"


def _format_english(jd: JapaneseDate) -> str:
    if jd.approx is None:
        return "unknown"
    if jd.lunisolar or jd.non_calendar:
        # The register text is the only faithful form of such a date.
        return format_wareki(jd)
    year = jd.approx.year
    if jd.month is None:
        out = str(year)
    elif jd.day is None:
        out = f"{_MONTHS_EN[jd.month - 1]} {year}"
    else:
        out = f"{jd.day} {_MONTHS_EN[jd.month - 1]} {year}"
    return f"c. {out}" if jd.circa else out
