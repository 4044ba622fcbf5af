"""The イベント一覧 dataset of デジタル庁's 自治体標準オープンデータセット, made from the
events on the calendar (published or cancelled: both were approved).

Columns and their order are the dataset's (32 columns, 都道府県コード又は市区町村コード to
備考); docs/website.md gives the mapping. Dates are YYYY-MM-DD and times hh:mm as the
dataset's rules ask; an all-day event has no times and says 終日 in 開始日時特記事項.
The file is UTF-8 with a BOM (so spreadsheet software reads the Japanese) and CRLF line
ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.conf import settings

from machi.localevents.models import Event, Status

COLUMNS = (
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "イベント名",
    "イベント名_カナ", "イベント名_英語", "開始日", "終了日", "開始時間", "終了時間",
    "開始日時特記事項", "説明", "料金(基本)", "料金(詳細)", "連絡先名称", "連絡先電話番号",
    "連絡先内線番号", "主催者", "場所名称", "住所", "方書", "緯度", "経度", "アクセス方法",
    "駐車場情報", "定員", "参加申込終了日", "参加申込終了時間", "参加申込方法", "URL", "備考",
)  # fmt: skip


def _row(event: Event, *, lg_code: str, prefecture: str, city: str) -> dict[str, str]:
    notes = ["終日"] if event.all_day else []
    remarks = []
    if event.status == Status.CANCELLED:
        remarks.append("中止")
        if event.status_reason:
            remarks.append(event.status_reason)
    contact = event.contact_public
    return {
        "都道府県コード又は市区町村コード": lg_code,
        "NO": str(event.pk),
        "都道府県名": prefecture,
        "市区町村名": city,
        "イベント名": event.title.get("ja", ""),
        "イベント名_カナ": event.title_kana,
        "イベント名_英語": event.title.get("en", ""),
        "開始日": event.starts_on.isoformat(),
        "終了日": event.ends_on.isoformat(),
        "開始時間": event.start_time.strftime("%H:%M") if event.start_time else "",
        "終了時間": event.end_time.strftime("%H:%M") if event.end_time else "",
        "開始日時特記事項": "、".join(notes),
        "説明": event.description.get("ja", ""),
        "料金(基本)": str(event.fee_yen),
        "料金(詳細)": event.fee_note or ("無料" if event.fee_yen == 0 else ""),
        "連絡先名称": event.contact_name if contact else "",
        "連絡先電話番号": event.contact_phone if contact else "",
        "連絡先内線番号": "",
        "主催者": event.organiser_name,
        "場所名称": event.place_name,
        "住所": event.address,
        "方書": "",
        "緯度": f"{event.lat:.6f}" if event.lat is not None else "",
        "経度": f"{event.long:.6f}" if event.long is not None else "",
        "アクセス方法": "",
        "駐車場情報": "",
        "定員": "",
        "参加申込終了日": "",
        "参加申込終了時間": "",
        "参加申込方法": "",
        "URL": event.url or settings.MACHI_PUBLIC_URL.rstrip("/") + event.get_absolute_url(),
        "備考": "。".join(remarks),
    }


def event_csv(*, events: Iterable[Event], lg_code: str, prefecture: str, city: str) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for event in events:
        writer.writerow(_row(event, lg_code=lg_code, prefecture=prefecture, city=city))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
