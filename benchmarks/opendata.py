"""Latency of the CKAN ``package_search`` action over a catalogue of 5,000 datasets.

Run by hand::

    .venv/bin/python benchmarks/opendata.py [--datasets 5000] [--searches 400]
        [--database sqlite|postgres]

Sets up a throwaway data directory (production settings), creates 千代田区 and fills its
catalogue with ``--datasets`` published datasets (60 tags drawn from a Japanese
vocabulary, 1–3 tags and 1–2 resources with a file version each, four organisations'
worth of titles), then sends ``--searches`` GET requests to
``/131016/api/3/action/package_search`` through Django's whole middleware stack
(django.test.Client, no network) mixing five kinds: everything (rows 10), a word in
the title, an fq on a tag, an fq on a format with sort by modification, and a deep
page (start 2000, rows 100). Prints JSON with p50/p95/p99 in milliseconds, overall
and per kind (target: p95 ≤ 50 ms; CKAN with Solr answers in about 1 s).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_import import LG_CODE, configure
from registry_search import summary

TAGS = [
    "人口", "世帯", "防災", "避難所", "AED", "公共施設", "子育て", "保育", "教育", "学校",
    "福祉", "介護", "医療", "健康", "観光", "イベント", "文化", "スポーツ", "公園", "道路",
    "交通", "バス", "駐車場", "ごみ", "環境", "水道", "下水道", "財政", "予算", "決算",
    "選挙", "議会", "統計", "地図", "景観", "農業", "商業", "工業", "雇用", "住宅",
    "空き家", "図書館", "文化財", "防犯", "消防", "救急", "気象", "河川", "トイレ", "Wi-Fi",
    "自治体標準オープンデータセット", "施設", "くらし", "税", "国民健康保険", "年金", "障害",
    "高齢者", "外国人", "男女共同参画",
]  # fmt: skip
SUBJECTS = ["一覧", "統計", "台帳", "調査結果", "位置情報", "年報", "月報", "利用状況"]
FORMATS = ["CSV", "CSV", "JSON", "GeoJSON", "XLSX"]
KINDS = ("all", "q_title", "fq_tag", "fq_format_sorted", "deep_page")


def fill(count: int, seed: int) -> None:
    import hashlib

    from django.utils import timezone

    from machi.opendata.models import Dataset, Resource, ResourceVersion, State, Tag
    from machi.opendata.services import organization_default
    from machi.tenancy.context import tenant_context

    rng = random.Random(seed)
    now = timezone.now()
    with tenant_context(LG_CODE):
        org = organization_default(now=now)
        tags = Tag.objects.bulk_create([Tag(name=t) for t in TAGS])
        datasets = Dataset.objects.bulk_create(
            Dataset(
                name=f"dataset-{i:05d}", title=f"{rng.choice(TAGS)}{rng.choice(SUBJECTS)} {i}",
                notes=f"{rng.choice(TAGS)}に関するデータです。" * rng.randint(1, 5),
                organization=org, state=State.PUBLISHED, created_at=now,
                modified_at=now - timezone.timedelta(minutes=rng.randint(0, 500_000)),
                published_at=now,
            )
            for i in range(count)
        )  # fmt: skip
        through = Dataset.tags.through
        links = set()
        for dataset in datasets:
            for tag in rng.sample(tags, rng.randint(1, 3)):
                links.add((dataset.pk, tag.pk))
        through.objects.bulk_create(through(dataset_id=d, tag_id=t) for d, t in links)
        resources = Resource.objects.bulk_create(
            Resource(dataset=d, name=f"資料{j + 1}", format=rng.choice(FORMATS), position=j,
                     created_at=now, modified_at=now)
            for d in datasets
            for j in range(rng.randint(1, 2))
        )  # fmt: skip
        content = "名称,値\r\n例,1\r\n".encode()
        digest = hashlib.sha256(content).hexdigest()
        ResourceVersion.objects.bulk_create(
            ResourceVersion(resource=r, number=1, content=content, media_type="text/csv",
                            size=len(content), sha256=digest, encoding="UTF-8", rows=1,
                            created_at=now)
            for r in resources
        )  # fmt: skip


def queries(count: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        if kind == "all":
            params = {"rows": "10"}
        elif kind == "q_title":
            params = {"q": rng.choice(TAGS), "rows": "10"}
        elif kind == "fq_tag":
            params = {"fq": f'tags:"{rng.choice(TAGS)}"', "rows": "20"}
        elif kind == "fq_format_sorted":
            params = {"fq": f"res_format:{rng.choice(['CSV', 'JSON', 'GeoJSON'])}",
                      "sort": "metadata_modified desc", "rows": "10"}  # fmt: skip
        else:
            params = {"start": "2000", "rows": "100", "sort": "name asc"}
        out.append((kind, params))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=5000)
    parser.add_argument("--searches", type=int, default=400)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-opendata-"))
    server = configure(args.database, data_dir)
    try:
        started = time.perf_counter()
        fill(args.datasets, args.seed)
        fill_seconds = time.perf_counter() - started
        from django.test import Client

        client = Client(HTTP_HOST="localhost")
        url = f"/{LG_CODE}/api/3/action/package_search"
        for _kind, params in queries(20, args.seed + 1):  # warm caches and connections
            warm = client.get(url, params, secure=True)
            assert warm.status_code == 200, (warm.status_code, warm.content[:300])
        timings: dict[str, list[float]] = {k: [] for k in KINDS}
        counts: dict[str, int] = {}
        for kind, params in queries(args.searches, args.seed + 2):
            start = time.perf_counter()
            response = client.get(url, params, secure=True)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.content[:300]
            timings[kind].append(elapsed)
            counts[kind] = json.loads(response.content)["result"]["count"]
        everything = [t for values in timings.values() for t in values]
        import os

        print(json.dumps({
            "database": args.database, "datasets": args.datasets, "searches": args.searches,
            "fill_seconds": round(fill_seconds, 1), "overall": summary(everything),
            "per_kind": {k: summary(v) for k, v in timings.items()},
            "last_counts": counts, "target_p95_ms": 50,
            "meets_target": summary(everything)["p95_ms"] <= 50,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }, ensure_ascii=False, indent=2))  # fmt: skip
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
