"""DOMAIN.md §4: 外字 maps, private-use detection, JIS X 0208 export."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.japanese import (
    GaijiMapError,
    apply_gaiji_map,
    export_jisx0208,
    find_private_use,
    is_private_use,
    load_gaiji_map,
    parse_gaiji_map,
)

IVS = "\U000e0100"
MAP_CSV = (
    "code,char,evidence\n"
    "U+E001,髙,戸籍謄本\n"
    f"U+E002,葛{IVS},住民票原票\n"
    "U+F0001,𠮷,旧システム外字表\n"
)


def test_find_private_use_in_all_planes() -> None:
    text = "a\ue000b\uf8ff\ue001c\U000f0000\U0010fffd\U000e0100"
    found = find_private_use(text)
    assert [p.code for p in found] == ["U+E000", "U+F8FF", "U+E001", "U+F0000", "U+10FFFD"]
    assert [p.index for p in found] == [1, 3, 4, 6, 7]
    assert not is_private_use("\ud7ff") and not is_private_use("\uf900")
    assert find_private_use("髙橋𠮷田") == []


def test_parse_and_apply() -> None:
    gmap = parse_gaiji_map(MAP_CSV)
    assert len(gmap) == 3
    result = apply_gaiji_map("\ue001橋\ue002城\U000f0001田\ue003", gmap)
    assert result.text == f"髙橋葛{IVS}城𠮷田\ue003"
    assert [(r.index, r.code, r.entry.char) for r in result.replacements] == [
        (0, "U+E001", "髙"),
        (2, "U+E002", "葛" + IVS),
        (4, "U+F0001", "𠮷"),
    ]
    assert result.replacements[0].entry.evidence == "戸籍謄本"
    assert result.replacements[0].entry.line == 2
    assert [u.code for u in result.unmapped] == ["U+E003"]
    assert not result.ok
    assert apply_gaiji_map("山田", gmap).ok


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "gaiji.csv"
    path.write_bytes(("\ufeff" + MAP_CSV.replace("\n", "\r\n")).encode("utf-8"))
    gmap = load_gaiji_map(path)
    assert gmap.get("\ue001") is not None and gmap.get("\ue001").char == "髙"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("U+E001,髙\n", 2, "項目"),
        ("U+E001,髙,a,b\n", 2, "項目"),
        ("E001,髙,x\n", 2, "U+E001"),
        ("U+ZZZZ,髙,x\n", 2, "U+E001"),
        ("U+4E00,一,x\n", 2, "私用領域"),
        ("U+E001,\ue002,x\n", 2, "外字"),
        ("U+E001,,x\n", 2, "空"),
        ("U+E001,髙橋,x\n", 2, "1文字"),
        ("U+E001,髙,x\nU+E001,高,y\n", 3, "重複"),
        ("U+E001,髙,x\n\nU+E002,\U000f0001,y\n", 4, "外字"),
    ],
)
def test_map_errors_name_the_line(body: str, line: int, words: str) -> None:
    with pytest.raises(GaijiMapError) as info:
        parse_gaiji_map("code,char,evidence\n" + body)
    assert [e[0] for e in info.value.errors] == [line]
    assert words in info.value.errors[0][1]
    assert f"{line}行目" in str(info.value)


def test_map_reports_every_error() -> None:
    body = "U+E001,髙,x\nU+E001,高,y\nbad\nU+E002,\ue003,z\n"
    with pytest.raises(GaijiMapError) as info:
        parse_gaiji_map("code,char,evidence\n" + body)
    assert [e[0] for e in info.value.errors] == [3, 4, 5]


def test_map_header_required() -> None:
    with pytest.raises(GaijiMapError):
        parse_gaiji_map("U+E001,髙,x\n")


def test_export_jisx0208() -> None:
    result = export_jisx0208(f"髙橋 𠮷田 山﨑 葛{IVS}城 \ue001 ｻﾄｳ ABC 高橋")
    assert result.text == "高橋 吉田 山崎 葛城 〓 サトウ ABC 高橋"
    lossy = {(x.original, x.replacement) for x in result.lossy}
    assert ("髙", "高") in lossy and ("𠮷", "吉") in lossy and ("﨑", "崎") in lossy
    assert ("葛" + IVS, "葛") in lossy and ("\ue001", "〓") in lossy
    assert all(x.original != "高" for x in result.lossy)
    # the input (the master) is untouched: the function works on a copy
    assert export_jisx0208("高橋").lossy == ()


@given(st.text(st.sampled_from([*list("高橋山田斎藤齋藤髙﨑𠮷アいｳ ABC\ue000"), IVS]), max_size=12))
def test_export_only_jisx0208_or_ascii(text: str) -> None:
    from machi.japanese.variants import in_jisx0208

    result = export_jisx0208(text)
    assert all(c == " " or "!" <= c <= "~" or in_jisx0208(c) for c in result.text)
    again = export_jisx0208(result.text)
    assert again.text == result.text and again.lossy == ()
