"""Throughput of machi.japanese.kanji_key and kana_key over 1,000,000 names.

Run by hand: ``.venv/bin/python benchmarks/japanese_keys.py [--count N] [--seed S]``.
Prints JSON. Names are generated (seeded) from common surnames and given
names, with variant kanji, IVS, spaces of both widths, and kana written in
hiragana, full-width and half-width katakana. Every name is keyed once per
function; there is no cache, so the figure is the real per-call cost.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
import unicodedata

from machi.japanese import kana_key, kanji_key

SURNAMES = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("斎藤", "サイトウ"),
    ("斉藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("前田", "マエダ"),
    ("藤田", "フジタ"),
    ("小川", "オガワ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("村上", "ムラカミ"),
    ("近藤", "コンドウ"),
    ("坂本", "サカモト"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("藤井", "フジイ"),
    ("西村", "ニシムラ"),
    ("福田", "フクダ"),
    ("太田", "オオタ"),
    ("三浦", "ミウラ"),
    ("藤原", "フジワラ"),
    ("岡本", "オカモト"),
    ("松田", "マツダ"),
    ("中川", "ナカガワ"),
    ("中野", "ナカノ"),
    ("原田", "ハラダ"),
    ("小野", "オノ"),
    ("田村", "タムラ"),
    ("竹内", "タケウチ"),
    ("金子", "カネコ"),
    ("和田", "ワダ"),
    ("中山", "ナカヤマ"),
    ("石田", "イシダ"),
    ("上田", "ウエダ"),
    ("森田", "モリタ"),
    ("柴田", "シバタ"),
    ("酒井", "サカイ"),
    ("工藤", "クドウ"),
    ("横山", "ヨコヤマ"),
    ("宮崎", "ミヤザキ"),
    ("宮本", "ミヤモト"),
    ("内田", "ウチダ"),
    ("高木", "タカギ"),
    ("安藤", "アンドウ"),
    ("島田", "シマダ"),
    ("谷口", "タニグチ"),
    ("大野", "オオノ"),
    ("丸山", "マルヤマ"),
    ("今井", "イマイ"),
    ("河野", "コウノ"),
    ("藤本", "フジモト"),
    ("村田", "ムラタ"),
    ("武田", "タケダ"),
    ("上野", "ウエノ"),
    ("杉山", "スギヤマ"),
    ("増田", "マスダ"),
    ("平野", "ヒラノ"),
    ("大塚", "オオツカ"),
    ("千葉", "チバ"),
    ("久保", "クボ"),
    ("松井", "マツイ"),
    ("小島", "コジマ"),
    ("岩崎", "イワサキ"),
    ("桜井", "サクライ"),
    ("野口", "ノグチ"),
    ("松尾", "マツオ"),
    ("菅原", "スガワラ"),
    ("木下", "キノシタ"),
    ("野村", "ノムラ"),
    ("新井", "アライ"),
    ("渡部", "ワタナベ"),
    ("大橋", "オオハシ"),
    ("広瀬", "ヒロセ"),
    ("富田", "トミタ"),
    ("黒田", "クロダ"),
    ("浜田", "ハマダ"),
    ("沢田", "サワダ"),
    ("国分", "コクブン"),
    ("徳永", "トクナガ"),
]
GIVEN = [
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("健太", "ケンタ"),
    ("拓也", "タクヤ"),
    ("直樹", "ナオキ"),
    ("陽菜", "ヒナ"),
    ("結衣", "ユイ"),
    ("美咲", "ミサキ"),
    ("さくら", "サクラ"),
    ("蓮", "レン"),
    ("悠真", "ユウマ"),
    ("陽翔", "ハルト"),
    ("湊", "ミナト"),
    ("凛", "リン"),
    ("葵", "アオイ"),
    ("結菜", "ユイナ"),
    ("一郎", "イチロウ"),
    ("花子", "ハナコ"),
    ("太郎", "タロウ"),
    ("恵子", "ケイコ"),
    ("真由美", "マユミ"),
    ("実", "ミノル"),
    ("寛", "ヒロシ"),
    ("勇気", "ユウキ"),
    ("優子", "ユウコ"),
    ("雄一", "ユウイチ"),
    ("洋平", "ヨウヘイ"),
    ("智子", "トモコ"),
    ("浩二", "コウジ"),
    ("由紀", "ユキ"),
    ("譲治", "ジョウジ"),
    ("ヴィクトル", "ヴィクトル"),
    ("美智子", "ミチコ"),
    ("秀樹", "ヒデキ"),
    ("健一", "ケンイチ"),
    ("里奈", "リナ"),
    ("大樹", "ダイキ"),
    ("沙織", "サオリ"),
    ("亮", "リョウ"),
    ("桃子", "モモコ"),
]
# variant kanji that the generator may substitute into a name
VARIANTS = {
    "高": ["髙"],
    "崎": ["﨑", "嵜"],
    "辺": ["邊", "邉"],
    "斎": ["齋"],
    "斉": ["齊"],
    "沢": ["澤"],
    "浜": ["濱", "濵"],
    "徳": ["德"],
    "吉": ["\U00020bb7"],
    "国": ["國"],
    "広": ["廣"],
    "桜": ["櫻"],
    "島": ["嶋", "嶌"],
    "富": ["冨"],
    "瀬": ["瀨"],
    "真": ["眞"],
    "恵": ["惠"],
    "実": ["實"],
    "黒": ["黑"],
    "寛": ["寬"],
    "藤": ["籘"],
    "塚": ["\ufa10"],
    "葛": ["葛\U000e0100"],
    "辻": ["辻\U000e0101"],
}
SPACES = ["", " ", "\u3000", "\u3000"]


def _hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def _halfwidth(text: str) -> str:
    # NFKD splits the dakuten; then each full-width katakana maps to half-width.
    table = {}
    for cp in range(0xFF66, 0xFFA0):
        full = unicodedata.normalize("NFKC", chr(cp))
        if len(full) == 1:
            table[full] = chr(cp)
    table["\u3099"], table["\u309a"] = "\uff9e", "\uff9f"
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(table.get(c, c) for c in decomposed)


def generate(count: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    kanji: list[str] = []
    kana: list[str] = []
    for _ in range(count):
        (s_kanji, s_kana), (g_kanji, g_kana) = rng.choice(SURNAMES), rng.choice(GIVEN)
        name = []
        for char in s_kanji + "|" + g_kanji:
            if char in VARIANTS and rng.random() < 0.3:
                char = rng.choice(VARIANTS[char])
            name.append(char)
        kanji.append("".join(name).replace("|", rng.choice(SPACES)))
        reading = s_kana + rng.choice(SPACES) + g_kana
        form = rng.random()
        if form < 0.3:
            reading = _hiragana(reading)
        elif form < 0.5:
            reading = _halfwidth(reading)
        elif form < 0.6:
            reading = reading.replace("ウ", "ー", 1)
        kana.append(reading)
    return kanji, kana


def _rate(func, names: list[str]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for name in names:
        func(name)
    return len(names) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260401)
    args = parser.parse_args(argv)
    kanji_names, kana_names = generate(args.count, args.seed)
    kanji_key("warm-up")
    kana_key("warm-up")
    result = {
        "benchmark": "japanese_keys",
        "names": args.count,
        "distinct_kanji_names": len(set(kanji_names)),
        "distinct_kana_names": len(set(kana_names)),
        "kanji_key_names_per_s": round(_rate(kanji_key, kanji_names)),
        "kana_key_names_per_s": round(_rate(kana_key, kana_names)),
        "target_names_per_s": 200_000,
        "python": platform.python_version(),
    }
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
