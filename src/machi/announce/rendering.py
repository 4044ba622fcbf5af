"""An announcement's text in one language: the language's own text, or the Japanese with
a notice in the reader's language when staff wrote none."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString

from machi.announce.models import Announcement
from machi.contact.markup import body_html

NOT_TRANSLATED = {
    "en": "This announcement is not available in English yet; it is shown in Japanese.",
    "ja-easy": "この おしらせは まだ やさしい にほんごに なって いません。にほんごで みせます。",
}


@dataclass(frozen=True)
class Text:
    language: str  # the language of the text shown (ja when falling back)
    title: str
    body: str  # Markdown
    notice: str  # "" when the text is in the reader's language

    @property
    def html(self) -> SafeString:
        return body_html(self.body, "markdown")


def text_in(announcement: Announcement, language: str) -> Text:
    if language in announcement.title:
        return Text(language, announcement.title[language], announcement.body[language], "")
    return Text(
        "ja",
        announcement.title.get("ja", ""),
        announcement.body.get("ja", ""),
        NOT_TRANSLATED.get(language, ""),
    )
