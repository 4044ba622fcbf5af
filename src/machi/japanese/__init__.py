"""machi.japanese: the Japanese domain rules of DOMAIN.md §2–§4, in pure Python.

No Django here: this package is imported by the registry, the navigator, the
import tools and the benchmarks alike.

* codes — 全国地方公共団体コード, 個人番号, 宛名番号/世帯番号 check digits;
* dates — eras, :class:`JapaneseDate` (不詳, 頃, non-calendar), parse and format;
* ages — age, legal_age, school_start, school_age, eligible_child;
* deadlines — filing deadlines past weekends, holidays and 年末年始;
* business_time — the business calendar (hours, 土日・祝日・年末年始 and a
  municipality's own closed days) and business minutes for SLA timers;
* names / variants — kanji and kana search keys, フリガナ conversion;
* gaiji — private-use characters, gaiji maps, JIS X 0208 export;
* postal — offline postal code lookup.

>>> from machi.japanese import kanji_key, parse_date, validate_lg_code
>>> kanji_key("髙橋") == kanji_key("高橋")
True
"""

from machi.japanese.ages import (
    age,
    as_date,
    birthday_in,
    eligible_child,
    eligible_child_until,
    legal_age,
    school_age,
    school_start,
)
from machi.japanese.business_time import (
    DEFAULT_HOURS,
    JST,
    BusinessCalendar,
    ClosedDays,
    add_business_minutes,
    business_minutes_between,
    business_seconds_between,
    is_year_end_holiday,
    parse_hours,
)
from machi.japanese.codes import (
    CodeError,
    atena_check_digit,
    is_valid_atena_number,
    is_valid_lg_code,
    is_valid_my_number,
    lg_code_check_digit,
    my_number_check_digit,
    validate_atena_number,
    validate_household_number,
    validate_lg_code,
    validate_my_number,
    with_atena_check_digit,
)
from machi.japanese.dates import (
    ERAS,
    DateParseError,
    Era,
    JapaneseDate,
    era_by_key,
    era_of,
    format_date,
    format_datetime,
    format_seireki,
    format_wareki,
    parse_date,
)
from machi.japanese.deadlines import deadline, is_closed_day
from machi.japanese.gaiji import (
    ExportResult,
    GaijiEntry,
    GaijiMap,
    GaijiMapError,
    GaijiResult,
    LossyChar,
    PrivateUseChar,
    Replacement,
    apply_gaiji_map,
    export_jisx0208,
    find_private_use,
    is_private_use,
    load_gaiji_map,
    parse_gaiji_map,
)
from machi.japanese.names import (
    kana_key,
    kanji_key,
    strip_variation_selectors,
    to_katakana_fullwidth,
)
from machi.japanese.postal import PostalAddress, PostalCodeError, postal_lookup
from machi.japanese.variants import representative, variant_family

__all__ = [
    "DEFAULT_HOURS",
    "ERAS",
    "JST",
    "BusinessCalendar",
    "ClosedDays",
    "CodeError",
    "DateParseError",
    "Era",
    "ExportResult",
    "GaijiEntry",
    "GaijiMap",
    "GaijiMapError",
    "GaijiResult",
    "JapaneseDate",
    "LossyChar",
    "PostalAddress",
    "PostalCodeError",
    "PrivateUseChar",
    "Replacement",
    "add_business_minutes",
    "age",
    "apply_gaiji_map",
    "as_date",
    "atena_check_digit",
    "birthday_in",
    "business_minutes_between",
    "business_seconds_between",
    "deadline",
    "eligible_child",
    "eligible_child_until",
    "era_by_key",
    "era_of",
    "export_jisx0208",
    "find_private_use",
    "format_date",
    "format_datetime",
    "format_seireki",
    "format_wareki",
    "is_closed_day",
    "is_private_use",
    "is_valid_atena_number",
    "is_valid_lg_code",
    "is_valid_my_number",
    "is_year_end_holiday",
    "kana_key",
    "kanji_key",
    "legal_age",
    "lg_code_check_digit",
    "load_gaiji_map",
    "my_number_check_digit",
    "parse_date",
    "parse_gaiji_map",
    "parse_hours",
    "postal_lookup",
    "representative",
    "school_age",
    "school_start",
    "strip_variation_selectors",
    "to_katakana_fullwidth",
    "validate_atena_number",
    "validate_household_number",
    "validate_lg_code",
    "validate_my_number",
    "variant_family",
    "with_atena_check_digit",
]
