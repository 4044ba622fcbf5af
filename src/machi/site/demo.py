# ruff: noqa: E501 - demo texts, kept one per line to read and edit them as text
"""Demo content of the website (``machi demo``): a few pages and news items in
Japanese, やさしい日本語 and English for each demo municipality. Idempotent: a
municipality whose site already has the demo's first page is left as it is."""

from __future__ import annotations

import datetime

from django.utils import timezone

from machi.tenancy.context import tenant_context

PAGES = (
    ("kurashi", "juminhyo", {
        "ja": "住民票の写しの請求",
        "ja-easy": "じゅうみんひょう の うつし を もらう",
        "en": "Getting a copy of your residence certificate",
    }, {
        "ja": "## 請求できる人\n\n本人または同じ世帯の人です。\n\n## 必要なもの\n\n- 本人確認書類（マイナンバーカード、運転免許証など）\n- 手数料 300 円\n\nマイナンバーカードがあれば、コンビニでも取れます。",
        "ja-easy": "## だれが もらえますか\n\nあなた か、いっしょに すんで いる かぞく です。\n\n## もって くる もの\n\n- あなた だと わかる カード（マイナンバーカード など）\n- 300えん",
        "en": "## Who can apply\n\nYou or a member of your household.\n\n## What to bring\n\n- Photo ID (My Number Card, driver's licence…)\n- A fee of 300 yen\n\nWith a My Number Card you can also get it at a convenience store.",
    }),
    ("kurashi", "gomi", {
        "ja": "ごみの出し方", "ja-easy": "ごみ の だしかた", "en": "How to put out rubbish",
    }, {
        "ja": "燃えるごみは月曜日と木曜日の朝 8 時までに出してください。粗大ごみは電話で予約します。",
        "ja-easy": "もえる ごみ は げつようび と もくようび の あさ 8じ までに だして ください。",
        "en": "Burnable rubbish goes out on Monday and Thursday mornings by 8:00.",
    }),
    ("kosodate", "jido-teate", {"ja": "児童手当"}, {
        "ja": "中学生までのお子さんを育てている方に支給します。出生や転入から 15 日以内に申請してください。",
    }),
    ("bosai", "hinanjo", {
        "ja": "避難所の一覧", "ja-easy": "ひなんじょ（にげる ところ）", "en": "Evacuation shelters",
    }, {
        "ja": "災害のときは、近くの小学校・中学校が避難所になります。",
        "ja-easy": "じしん や おおあめ の とき は、ちかく の がっこう に にげて ください。",
        "en": "In a disaster, the nearest elementary and junior high schools open as shelters.",
    }),
)  # fmt: skip

NEWS = (
    ("bosai", {
        "ja": "防災訓練を行います", "ja-easy": "ぼうさい の れんしゅう を します",
        "en": "Disaster drill this weekend",
    }, {
        "ja": "今週の土曜日 10 時から、各小学校で防災訓練を行います。",
        "ja-easy": "こんしゅう の どようび 10じ から、しょうがっこう で れんしゅう を します。",
        "en": "On Saturday from 10:00 there is a disaster drill at every elementary school.",
    }),
    ("kurashi", {"ja": "年末年始の窓口の休み", "en": "Offices closed over the New Year"}, {
        "ja": "12 月 29 日から 1 月 3 日まで、窓口はお休みです。",
        "en": "The counters are closed from 29 December to 3 January.",
    }),
    ("kosodate", {"ja": "子育て相談会を開きます"}, {
        "ja": "保健師に子育ての相談ができます。予約は不要です。",
    }),
)  # fmt: skip


def demo_site_seed(lg_code: str) -> None:
    from machi.site.models import NewsItem, Page, Status, VersionState
    from machi.site.services import _go_live, _index, _version_new, site_state_bump

    with tenant_context(lg_code):
        if Page.objects.filter(path="kurashi/juminhyo").exists():
            return
        now = timezone.now()
        # Written and approved by the demo's system user: the demo shows content at once.
        for parent_path, slug, title, body in PAGES:
            parent = Page.objects.get(path=parent_path)
            page = Page.objects.create(parent=parent, slug=slug, path=f"{parent_path}/{slug}",
                                       created_at=now, updated_at=now)  # fmt: skip
            version = _version_new(owner=page, actor=None, title=title, body=body,
                                   publish_at=None, unpublish_at=None, note="デモ",
                                   state=VersionState.APPROVED)  # fmt: skip
            _go_live(page, version, now=now)
        for days, (category, title, body) in enumerate(NEWS):
            item = NewsItem.objects.create(category=category, created_at=now, updated_at=now)
            version = _version_new(owner=item, actor=None, title=title, body=body,
                                   publish_at=None, unpublish_at=None, note="デモ",
                                   state=VersionState.APPROVED)  # fmt: skip
            item.published_at = now - datetime.timedelta(days=days)
            _go_live(item, version, now=now)
        # the sections' own placeholder text goes into the search index too
        for section in Page.objects.filter(parent__isnull=True, status=Status.PUBLISHED):
            _index(section)
            section.save()
        site_state_bump(now=now)
