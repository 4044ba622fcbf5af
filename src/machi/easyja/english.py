"""English names of the Japanese data staff screens show: procedures of the default
catalogue, life events, departments and 続柄 (relationship to the householder).

These names are data (the catalogue's YAML, the registry), not interface text, so they
are not in the gettext catalogue: a table keyed by the Japanese name, complete for the
defaults (tests/test_english.py checks the default catalogue, the life events and the
default departments). A name a municipality wrote itself and this table does not know
stays Japanese, marked ``lang="ja"`` by the ``english`` template library.

続柄 are composed (子の妻: the child's wife, DOMAIN.md §5), so :func:`relationship_en`
translates each link.
"""

from __future__ import annotations

from django.utils.functional import lazy
from django.utils.translation import get_language

PROCEDURES = {
    "出生に伴う住民票の記載": "Entering a newborn in the resident register",
    "転入届": "Moving-in notification",
    "転出届": "Moving-out notification",
    "転居届": "Change of address within the municipality",
    "死亡に伴う住民票の消除": "Removing a deceased person from the resident register",
    "世帯主変更届": "Change of householder",
    "世帯変更届": "Change of household",
    "婚姻に伴う住民票の記載事項修正": "Updating the resident record after marriage",
    "離婚に伴う住民票の記載事項修正": "Updating the resident record after divorce",
    "マイナンバーカードの継続利用": "Continued use of the My Number Card",
    "マイナンバーカードの住所変更": "Address update on the My Number Card",
    "マイナンバーカードの氏名変更": "Name update on the My Number Card",
    "マイナンバーカードの返納": "Returning the My Number Card",
    "印鑑登録": "Seal registration",
    "印鑑登録証の返却": "Returning the seal registration card",
    "印鑑登録の再登録": "Registering a seal again",
    "国民健康保険の加入": "Joining National Health Insurance",
    "国民健康保険の喪失": "Leaving National Health Insurance",
    "国民健康保険の氏名変更": "Name change in National Health Insurance",
    "出産育児一時金": "Lump-sum childbirth allowance",
    "国民健康保険の葬祭費": "Funeral expenses (National Health Insurance)",
    "後期高齢者医療の加入": "Joining Late-Stage Elderly Medical Care",
    "後期高齢者医療の喪失": "Leaving Late-Stage Elderly Medical Care",
    "後期高齢者医療の葬祭費": "Funeral expenses (Late-Stage Elderly Medical Care)",
    "国民年金の加入": "Joining the National Pension",
    "国民年金の種別変更（第3号→第1号）": "National Pension category change (Category 3 to 1)",
    "未支給年金・遺族基礎年金等の請求": "Claims for unpaid pension and survivors' basic pension",
    "介護保険の資格取得": "Joining Long-Term Care Insurance",
    "介護保険の資格喪失": "Leaving Long-Term Care Insurance",
    "要介護認定の受給資格証明書": "Certificate of long-term care need (for a move)",
    "児童手当の認定請求": "Child allowance application",
    "児童手当の額改定請求": "Child allowance amount revision",
    "児童手当の受給事由消滅届": "Ending the child allowance",
    "子ども医療費助成の申請": "Children's medical expense subsidy application",
    "子ども医療費受給者証の返還": "Returning the children's medical expense card",
    "児童扶養手当の認定請求": "Child-rearing allowance (single parents) application",
    "出生通知票・新生児訪問": "Birth notification card and newborn home visit",
    "乳幼児健診・予防接種の手続": "Infant health check-ups and vaccinations",
    "転入学の手続": "School transfer (moving in)",
    "転出時の在学証明書等": "School enrolment certificate when moving out",
    "通学区域の確認": "Checking the school district",
    "犬の登録事項変更（転入）": "Dog registration change (moving in)",
    "犬の所在地変更": "Change of a dog's address",
    "障害者手帳の住所変更": "Address change on the disability certificate",
    "障害者手帳の返還": "Returning the disability certificate",
    "相続人代表者指定届・現所有者申告": "Heir representative and current owner declaration",
}

EVENTS = {
    "出生": "Birth",
    "転入": "Moving in",
    "転出": "Moving out",
    "転居": "Moving within",
    "死亡": "Death",
    "婚姻": "Marriage",
    "離婚": "Divorce",
    "世帯変更": "Household change",
}

DEPARTMENTS = {
    "市民課": "Residents Division",
    "保険年金課": "Insurance and Pension Division",
    "介護保険課": "Long-Term Care Insurance Division",
    "子育て支援課": "Child-Rearing Support Division",
    "健康推進課": "Health Promotion Division",
    "学校教育課": "School Education Division",
    "環境衛生課": "Environmental Health Division",
    "障害福祉課": "Disability Welfare Division",
    "税務課": "Tax Division",
    "道路課": "Roads Division",
    "公園緑地課": "Parks Division",
    "企画課": "Planning Division",
    "広報課": "Public Relations Division",
    "防災課": "Disaster Management Division",
}

# registry.relationships: the links a 続柄 is made of, and the ones that stand alone.
RELATIONSHIP_LINKS = {
    "夫": "husband",
    "妻": "wife",
    "夫(未届)": "husband (unregistered marriage)",
    "妻(未届)": "wife (unregistered marriage)",
    "子": "child",
    "父": "father",
    "母": "mother",
    "兄": "elder brother",
    "姉": "elder sister",
    "弟": "younger brother",
    "妹": "younger sister",
}
RELATIONSHIP_STANDALONE = {
    "世帯主": "householder",
    "縁故者": "relative",
    "同居人": "lodger",
}

TERMS = {**PROCEDURES, **EVENTS, **DEPARTMENTS}


def term_en(value: str) -> str | None:
    """The English name of a procedure, life event or department; None if unknown."""
    return TERMS.get(value.strip())


def relationship_en(value: str) -> str | None:
    """続柄 in English (子の妻 → "child's wife", 世帯主 → "householder"); None when a link
    is unknown (the registry refuses such a value, but old data may hold one)."""
    text = value.strip().replace("（", "(").replace("）", ")")
    if text in RELATIONSHIP_STANDALONE:
        return RELATIONSHIP_STANDALONE[text]
    links = text.split("の")
    english = [RELATIONSHIP_LINKS.get(link) for link in links]
    if not text or None in english:
        return None
    return "'s ".join(english)  # type: ignore[arg-type]


def term_localised(japanese: str) -> str:
    """*japanese* in the active language: its English name on English screens."""
    if (get_language() or "ja").startswith("en"):
        return term_en(japanese) or japanese
    return japanese


# For labels fixed at import time (form choices): looked up when shown.
term_lazy = lazy(term_localised, str)
