"""The import CSV (the migration layout, DOMAIN.md §5): its columns and their fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # the CSV header (Japanese)
    field: str  # the Resident field it fills ("household" for 世帯番号)
    required: bool
    kind: str  # number | code | text | kana | date | postal | relationship | my_number
    max_length: int = 0
    choices: tuple[str, ...] = ()


#: Every column in the order the export writes them (the import takes any order).
COLUMNS: Final[tuple[Column, ...]] = (
    Column("宛名番号", "atena_number", True, "number", 20),
    Column("世帯番号", "household", True, "number", 20),
    Column("住民種別", "resident_type", True, "code", 1, ("1", "2")),
    Column("住民状態", "status", True, "code", 1, ("1", "2", "3", "9")),
    Column("氏名", "name", True, "text", 100),
    Column("氏名_フリガナ", "kana", False, "kana", 200),
    Column("旧氏", "former_surname", False, "text", 50),
    Column("旧氏_フリガナ", "former_surname_kana", False, "kana", 100),
    Column("通称", "alias", False, "text", 100),
    Column("氏名_英字", "name_alphabet", False, "text", 200),
    Column("性別", "sex", True, "code", 1, ("1", "2")),
    Column("生年月日", "birth_date", True, "date"),
    Column("続柄", "relationship", True, "relationship", 50),
    Column("郵便番号", "postal_code", False, "postal", 8),
    Column("住所_都道府県", "prefecture", True, "text", 10),
    Column("住所_市区町村", "city", True, "text", 50),
    Column("住所_町字", "machiaza", True, "text", 100),
    Column("住所_番地", "banchi", False, "text", 100),
    Column("住所_方書", "katagaki", False, "text", 200),
    Column("住民となった年月日", "became_resident_on", False, "date"),
    Column("住所を定めた年月日", "settled_on", False, "date"),
    Column("国籍", "nationality", False, "text", 50),
    Column("個人番号", "my_number", False, "my_number"),
)

BY_NAME: Final = {c.name: c for c in COLUMNS}
HEADER: Final = tuple(c.name for c in COLUMNS)

#: The column a rejects file adds (the reasons); the importer ignores it, so a
#: corrected rejects file can be imported as it is.
REJECT_COLUMN: Final = "取込エラー"

CHOICE_LABELS: Final = {
    "住民種別": "1（日本人）か 2（外国人）",
    "住民状態": "1（住民）、2（転出）、3（死亡）、9（消除）のいずれか",
    "性別": "1（男）か 2（女）",
}
