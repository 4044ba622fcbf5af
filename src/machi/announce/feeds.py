"""RSS 2.0 and Atom feeds of the published announcements, and the Atom index of the CAP
alerts, built with Django's feed generator (it escapes every text it is given)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.utils.translation import override

from machi.announce import selectors
from machi.announce.cap import CONTENT_TYPE as CAP_TYPE
from machi.announce.cap import identifier
from machi.announce.links import absolute
from machi.announce.rendering import text_in

FEED_LANGUAGE = {"ja": "ja", "ja-easy": "ja", "en": "en"}  # ja-easy is not a BCP 47 tag
TITLES = {
    "ja": "{name}のお知らせ",
    "ja-easy": "{name}の おしらせ",
    "en": "Announcements of {name}",
}
CAP_TITLES = {
    "ja": "{name}の防災情報（CAP）",
    "ja-easy": "{name}の さいがいの じょうほう（CAP）",
    "en": "Disaster alerts of {name} (CAP)",
}


def news_feed(
    *, kind: str, lg_code: str, municipality: str, language: str
) -> feedgenerator.SyndicationFeed:
    generator = feedgenerator.Atom1Feed if kind == "atom" else feedgenerator.Rss201rev2Feed
    self_url = absolute(reverse(f"announce:feed_{kind}", args=[lg_code])) + f"?lang={language}"
    feed = generator(
        title=TITLES[language].format(name=municipality),
        link=absolute(reverse("announce:public_list", args=[lg_code])),
        description=TITLES[language].format(name=municipality),
        language=FEED_LANGUAGE[language],
        feed_url=self_url,
        feed_guid=absolute(reverse("announce:public_list", args=[lg_code])),
    )
    with override(language):
        for announcement in selectors.public_announcements():
            text = text_in(announcement, language)
            url = absolute(announcement.get_absolute_url())
            description = str(text.html)
            if text.notice:
                description = f"<p>{text.notice}</p>{description}"
            feed.add_item(
                title=text.title,
                link=url,
                description=description,
                unique_id=url,
                unique_id_is_permalink=True,
                pubdate=announcement.published_at,
                updateddate=announcement.updated_at,
                categories=[announcement.category],
            )
    return feed


def cap_index(*, lg_code: str, municipality: str, language: str) -> feedgenerator.SyndicationFeed:
    feed = feedgenerator.Atom1Feed(
        title=CAP_TITLES[language].format(name=municipality),
        link=absolute(reverse("announce:public_list", args=[lg_code])),
        description=CAP_TITLES[language].format(name=municipality),
        language=FEED_LANGUAGE[language],
        feed_url=absolute(reverse("announce:feed_cap", args=[lg_code])),
        feed_guid=absolute(reverse("announce:feed_cap", args=[lg_code])),
    )
    for announcement in selectors.cap_alerts(now=timezone.now()):
        text = text_in(announcement, language)
        cancel = announcement.status == "withdrawn"
        feed.add_item(
            title=text.title,
            link=absolute(reverse("announce:cap_alert", args=[lg_code, announcement.pk])),
            description=text.title,
            unique_id=f"urn:{identifier(lg_code, announcement, cancel=cancel)}",
            pubdate=announcement.published_at,
            updateddate=announcement.updated_at,
            categories=[announcement.category],
            enclosures=[
                feedgenerator.Enclosure(
                    absolute(reverse("announce:cap_alert", args=[lg_code, announcement.pk])),
                    "0",
                    CAP_TYPE.split(";")[0],
                )
            ],
        )
    return feed
