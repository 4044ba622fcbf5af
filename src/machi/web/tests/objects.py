"""Real objects of one municipality for every tenant route that takes an id.

Each id route is described by an :class:`IdRoute`: how to fill its URL from a
:class:`World` (the objects of one municipality, made through the services on demand),
which method it serves, what a valid request carries and what its success looks like.
The isolation test and the browser screen test share them.

B's objects are made after A's and are bumped until none of their ids names an object
of the same kind at A: an answer of 404 to "A's URL with B's id" then proves isolation
instead of only the absence of an object with that id.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver

from machi.tenancy.context import tenant_context

A, B = "131016", "271403"
ADDRESSES = {
    A: {"prefecture": "東京都", "city": "千代田区", "machiaza": "千代田", "banchi": "1-1",
        "postal_code": "100-0001"},
    B: {"prefecture": "大阪府", "city": "堺市", "machiaza": "堺区南瓦町", "banchi": "3-1",
        "postal_code": "590-0078"},
}  # fmt: skip
MY_NUMBER = "123456789018"
# The smallest document the services take for a PDF (its content is checked, not its name).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_usernames = itertools.count(1)
BUMP_LIMIT = 20  # more than enough: each municipality's numbering starts at the same place


def family(lg_code: str) -> dict[str, Any]:
    """A 3-person move in (two kokuho adults, a child): tasks in several departments."""
    return {
        "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["p1", "p2", "p3"]},
        "persons": [
            {"id": "p1", "name": "髙橋 一郎", "kana": "タカハシ イチロウ", "sex": "1",
             "birth_date": "1985-06-15", "relationship": "世帯主", "insurance": "kokuho",
             "my_number": MY_NUMBER},
            {"id": "p2", "name": "髙橋 花子", "kana": "タカハシ ハナコ", "sex": "2",
             "birth_date": "1987-02-01", "relationship": "妻", "insurance": "kokuho"},
            {"id": "p3", "name": "髙橋 太郎", "kana": "タカハシ タロウ", "sex": "1",
             "birth_date": "2018-01-10", "relationship": "子", "insurance": "employee"},
        ],
        "answers": {"has_dog": True},
        "address": dict(ADDRESSES[lg_code]),
        "previous_address": "北海道札幌市中央区北1条西2丁目",
    }  # fmt: skip


def navigator_input() -> dict[str, Any]:
    return {
        "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["x", "y"]},
        "persons": [
            {"id": "x", "birth_date": "1980-05-10", "insurance": "kokuho", "householder": True},
            {"id": "y", "birth_date": "2018-01-15", "insurance": "kokuho"},
        ],
        "answers": {"has_dog": True},
    }


# --- the tenant routes, from the URL configuration -------------------------------------------


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


# Open311 GeoReport v2 is a public API by its specification (anyone may list services
# and requests; posting needs an API key): its isolation between municipalities is
# tested in machi/requests/tests/test_open311.py, route by route.
PUBLIC_API_PREFIXES = ("open311/", "^open311/")


def tenant_routes() -> list[str]:
    routes = sorted(
        {
            r
            for r in _walk(get_resolver().url_patterns)
            if "lg_code" in r and not r.startswith(PUBLIC_API_PREFIXES)
        }
    )
    assert routes, "no tenant URL found"
    return routes


def has_id(route: str) -> bool:
    return bool(re.search(r"<(?!(?:\w+:)?lg_code>)|\{(?!lg_code\})", route))


def id_routes() -> list[str]:
    return [route for route in tenant_routes() if has_id(route)]


def url_of(route: str, lg_code: str, kwargs: dict | None = None) -> str:
    """The route's URL at ``lg_code``; arguments from ``kwargs``, else ``1``."""
    route = route.lstrip("^").rstrip("$")
    url = re.sub(r"<(?:\w+:)?lg_code>|\{lg_code\}", lg_code, route)

    def argument(match: re.Match) -> str:
        return str((kwargs or {}).get(match["name"] or match["braced"], "1"))

    url = re.sub(r"<(?:\w+:)?(?P<name>\w+)>|\{(?P<braced>\w+)\}", argument, url)
    return "/" + url.replace("\\", "")


def _taken(lg_code: str | None, model: type[Model], **lookup: Any) -> bool:
    if lg_code is None:
        return False
    with tenant_context(lg_code):
        return model.objects.filter(**lookup).exists()


@dataclass
class World:
    """The objects of municipality ``lg_code``, made on first use. ``avoid``: the
    municipality whose ids these must not repeat (A's, for B's world)."""

    lg_code: str
    staff: Any
    receiver: Any  # machi.linkage.tests.receiver.Receiver: subscriptions are verified
    avoid: str | None = None
    peer: World | None = None  # the other municipality, for the one-step move
    _cache: dict[str, Any] = field(default_factory=dict)

    def _bumped(self, make: Callable[[], Any], clash: Callable[[Any], bool]) -> Any:
        with tenant_context(self.lg_code):
            made = make()
        for _ in range(BUMP_LIMIT):
            if not clash(made):
                return made
            with tenant_context(self.lg_code):
                made = make()
        raise AssertionError(f"could not make an object at {self.lg_code} with a fresh id")

    # Every object an id route uses, in an order that makes each kind at A before B's
    # (whose bumping looks at A's). The reservations come last: each needs the peer's move.
    OWN_OBJECTS = (
        "intake", "head", "task", "document", "colleague", "mfa_reset", "ticket",
        "subscription", "api_client", "outgoing_move", "preapplication",
        "request_category", "request_attribute", "filed", "request_photo", "response_template",
        "contact_ticket", "faq_answer", "faq_synonym", "faq_category", "quarantined_mail",
        "mail_attachment",
        "consultation", "consultation_draft", "consultation_comment",
        "local_event", "official_event",
        "site_page", "site_news", "site_image", "site_file",
        "board",
        "activitypub_note",
        "announce_published", "announce_draft",
        "opendata_dataset",  # opendata
    )  # fmt: skip

    @staticmethod
    def build_all(home: World, peer: World) -> None:
        """Make every object of both worlds now, ``home``'s kinds before ``peer``'s.

        For a module-scoped fixture: what is made later, inside a test, is rolled back
        with that test; what is made here lives as long as the fixture's transaction."""
        for names in (World.OWN_OBJECTS, ("reservation",)):
            for world in (home, peer):
                for name in names:
                    getattr(world, name)

    @functools.cached_property
    def intake(self) -> Any:
        """A confirmed 転入 of :func:`family`: visit, tasks, residents, household."""
        from machi.counter.models import Task
        from machi.counter.services.intake import life_event_confirm
        from machi.registry.models import Household, Resident

        def clash(result: Any) -> bool:
            with tenant_context(self.lg_code):
                tasks = list(result.visit.tasks.values_list("pk", flat=True))
                household = Resident.objects.get(
                    atena_number=result.atena_numbers["p1"]
                ).household.household_number
            return (
                _taken(self.avoid, Resident, atena_number__in=result.atena_numbers.values())
                or _taken(self.avoid, Household, household_number=household)
                or _taken(self.avoid, Task, pk__in=tasks)
            )

        return self._bumped(
            lambda: life_event_confirm(
                data=family(self.lg_code), actor=self.staff, filed_on=datetime.date(2026, 4, 6)
            ),
            clash,
        )

    @property
    def visit(self) -> Any:
        return self.intake.visit

    @functools.cached_property
    def head(self) -> Any:
        from machi.registry.models import Resident

        with tenant_context(self.lg_code):
            return Resident.objects.select_related("household").get(
                atena_number=self.intake.atena_numbers["p1"]
            )

    @functools.cached_property
    def task(self) -> Any:
        """An open task of the 市民課 (the department every test staff member works for)."""
        with tenant_context(self.lg_code):
            return self.visit.tasks.filter(department="shimin").order_by("pk").first()

    @functools.cached_property
    def document(self) -> str:
        from machi.counter.documents import visit_documents

        with tenant_context(self.lg_code):
            return visit_documents(visit=self.visit)[0].name

    @functools.cached_property
    def colleague(self) -> Any:
        """Another staff member of the municipality (staff live in the control database:
        their ids never repeat across municipalities)."""
        from machi.accounts.services import staff_create
        from machi.tenancy.models import Municipality

        return staff_create(
            username=f"colleague{self.lg_code}-{next(_usernames)}",
            display_name="同僚 職員",
            password="correct-horse-battery-staple",
            municipality=Municipality.objects.get(lg_code=self.lg_code),
            memberships=[("shimin", "counter_clerk")],
        )

    @functools.cached_property
    def mfa_reset(self) -> Any:
        """A pending request to reset the colleague's second factor (filed from the
        operator's command line, so any administrator of the municipality may approve)."""
        from machi.accounts.services import mfa_reset_request

        return mfa_reset_request(staff=self.colleague, by=None)

    @functools.cached_property
    def ticket(self) -> Any:
        from machi.counter.models import Ticket, TicketPurpose
        from machi.counter.services.tickets import ticket_issue

        return self._bumped(
            lambda: ticket_issue(purpose=TicketPurpose.CERTIFICATE),
            lambda ticket: _taken(self.avoid, Ticket, pk=ticket.pk),
        )

    @functools.cached_property
    def subscription(self) -> Any:
        from machi.linkage.models import Subscription
        from machi.linkage.services import subscription_create

        return self._bumped(
            lambda: subscription_create(
                name="国保連携",
                url=self.receiver.url,
                types=["jp.machi.resident.*"],
                secret=self.receiver.secret,
            )[0],
            lambda subscription: _taken(self.avoid, Subscription, pk=subscription.pk),
        )

    @functools.cached_property
    def api_client(self) -> Any:
        """(ApiClient, token) with every scope."""
        from machi.apiclients.models import ApiClient
        from machi.apiclients.services import apiclient_create

        created = self._bumped(
            lambda: apiclient_create(
                name="国保システム",
                scopes=["events:read", "residents:read", "residents:read:my_number"],
            ),
            lambda created: _taken(self.avoid, ApiClient, pk=created.client.pk),
        )
        return created.client, created.token

    @functools.cached_property
    def outgoing_move(self) -> Any:
        """A 転出 of the householder's partner to the peer municipality, with consent."""
        from machi.moves.services import outgoing_move_record
        from machi.registry.models import Resident
        from machi.registry.services import Filing

        with tenant_context(self.lg_code):
            partner = Resident.objects.get(atena_number=self.intake.atena_numbers["p2"])
            return outgoing_move_record(
                residents=[partner],
                destination_lg_code=self.peer.lg_code,
                destination="（試験）転出先",
                filing=Filing(
                    effective_on="2026-05-01", filed_on=datetime.date(2026, 4, 20),
                    actor=self.staff,
                ),
                consent=True,
            )  # fmt: skip

    @functools.cached_property
    def reservation(self) -> Any:
        """The 転入予約 the peer's outgoing move sent here (through the relay)."""
        from machi.moves.models import MoveReservation
        from machi.moves.relay import moves_relay

        move = self.peer.outgoing_move
        moves_relay(lg_code=self.peer.lg_code)
        with tenant_context(self.lg_code):
            return MoveReservation.objects.get(origin_move_id=move.public_id)

    @functools.cached_property
    def preapplication(self) -> Any:
        from machi.counter.models import PreApplication
        from machi.counter.services.preapplications import preapplication_create

        return self._bumped(
            lambda: preapplication_create(navigator_input=navigator_input()),
            lambda made: _taken(self.avoid, PreApplication, code=made.code),
        )

    # --- requests (要望・通報) -----------------------------------------------------------------

    @functools.cached_property
    def request_category(self) -> Any:
        """A category of the 市民課 (the department of every test member), so its
        requests are theirs to work on."""
        from machi.requests.models import Category
        from machi.requests.services import category_save

        return self._bumped(
            lambda: category_save(
                actor=self.staff, code=f"isolation-{next(_usernames)}", name="分離確認の分類",
                department="shimin",
            ),
            lambda made: _taken(self.avoid, Category, pk=made.pk),
        )  # fmt: skip

    @functools.cached_property
    def request_attribute(self) -> Any:
        from machi.requests.models import CategoryAttribute
        from machi.requests.services import category_attribute_save

        return self._bumped(
            lambda: category_attribute_save(
                actor=self.staff, category=self.request_category,
                code=f"q{next(_usernames)}", description="場所の目印", datatype="string",
            ),
            lambda made: _taken(self.avoid, CategoryAttribute, pk=made.pk),
        )  # fmt: skip

    @functools.cached_property
    def filed(self) -> Any:
        """A public request of the 市民課 with a follower's mail (a reporter to reveal, a
        confirmation secret)."""
        from machi.requests.models import Request
        from machi.requests.services import Reporter, request_create

        return self._bumped(
            lambda: request_create(
                category=self.request_category, description="公園の街灯が消えています。",
                address=f"{ADDRESSES[self.lg_code]['city']}{ADDRESSES[self.lg_code]['machiaza']}",
                reporter=Reporter(email="hanako.yamada@example.jp", last_name="山田"),
            ),
            lambda made: _taken(self.avoid, Request, pk=made.request.pk)
            or _taken(self.avoid, Request, public_code=made.request.public_code),
        )  # fmt: skip

    @property
    def request(self) -> Any:
        return self.filed.request

    @functools.cached_property
    def request_photo(self) -> Any:
        """A photo of the request, stored as the public form stores one (re-encoded)."""
        import io

        from django.core.files.uploadedfile import SimpleUploadedFile
        from PIL import Image

        from machi.requests import photos
        from machi.requests.models import RequestPhoto

        def make() -> Any:
            raw = io.BytesIO()
            Image.new("RGB", (8, 8)).save(raw, format="PNG")
            cleaned = photos.clean(SimpleUploadedFile("a.png", raw.getvalue()))
            return RequestPhoto.objects.create(
                request=self.request, file=photos.store(cleaned), width=cleaned.width,
                height=cleaned.height,
            )  # fmt: skip

        return self._bumped(make, lambda made: _taken(self.avoid, RequestPhoto, pk=made.pk))

    @functools.cached_property
    def response_template(self) -> Any:
        from machi.requests.models import ResponseTemplate
        from machi.requests.services import response_template_save

        return self._bumped(
            lambda: response_template_save(
                actor=self.staff, title="受付のお知らせ", body="担当課で確認しています。"
            ),
            lambda made: _taken(self.avoid, ResponseTemplate, pk=made.pk),
        )

    def unsubscribe_token(self) -> str:
        from machi.requests.mail import unsubscribe_token

        with tenant_context(self.lg_code):
            return unsubscribe_token(self.request)

    # --- contact center --------------------------------------------------------------------

    @functools.cached_property
    def contact_ticket(self) -> Any:
        """A phone inquiry taken by the member."""
        from machi.contact.models import Channel, Ticket
        from machi.contact.services.tickets import ticket_create

        return self._bumped(
            lambda: ticket_create(
                channel=Channel.PHONE, subject="粗大ごみの出し方", body="大型の家具を捨てたい。",
                actor=self.staff, contact_name="山田 花子",
            ),
            lambda made: _taken(self.avoid, Ticket, pk=made.pk),
        )  # fmt: skip

    @functools.cached_property
    def faq_answer(self) -> Any:
        """A published FAQ answer (the public page shows published answers only), after
        the default set a municipality starts with (its categories)."""
        from machi.contact.models import FaqAnswer, FaqCategory, FaqStatus
        from machi.contact.services.faq import faq_answer_save, faq_load_default

        with tenant_context(self.lg_code):
            faq_load_default()
        return self._bumped(
            lambda: faq_answer_save(
                category=FaqCategory.objects.order_by("pk").first(),
                question="住民票の写しはどこで取れますか。", answer="市民課の窓口で取れます。",
                actor=self.staff, status=FaqStatus.PUBLISHED,
            ),
            lambda made: _taken(self.avoid, FaqAnswer, pk=made.pk),
        )  # fmt: skip

    @functools.cached_property
    def faq_category(self) -> Any:
        """An empty FAQ category of its own (the default set's ids are the same in
        every municipality)."""
        from machi.contact.models import FaqCategory
        from machi.contact.services.faq import faq_category_create

        return self._bumped(
            lambda: faq_category_create(
                code=f"iso-{FaqCategory.objects.count()}", name="防災", actor=self.staff
            ),
            lambda made: _taken(self.avoid, FaqCategory, pk=made.pk),
        )

    @functools.cached_property
    def faq_synonym(self) -> Any:
        from machi.contact.models import FaqSynonym
        from machi.contact.services.faq import faq_synonym_add

        return self._bumped(
            lambda: faq_synonym_add(words="転入 引越し", actor=self.staff),
            lambda made: _taken(self.avoid, FaqSynonym, pk=made.pk),
        )

    @functools.cached_property
    def quarantined_mail(self) -> Any:
        """A mail without a sender, held by the mail receiver."""
        from machi.contact.mail.receive import mail_receive
        from machi.contact.models import QuarantinedMail

        def make() -> Any:
            result = mail_receive(
                raw=b"Subject: =?utf-8?b?5ZWP44GE5ZCI44KP44Gb?=\r\n\r\nbody\r\n", source="pipe"
            )
            assert result.quarantine is not None, result
            return result.quarantine

        return self._bumped(make, lambda made: _taken(self.avoid, QuarantinedMail, pk=made.pk))

    @functools.cached_property
    def mail_attachment(self) -> Any:
        """A resident's mail with a PDF attached, received as a new ticket."""
        from email.message import EmailMessage

        from machi.contact.mail.receive import mail_receive
        from machi.contact.models import MailAttachment, Ticket

        def make() -> Any:
            mail = EmailMessage()
            mail["From"], mail["To"] = "hanako.yamada@example.jp", "soudan@example.lg.jp"
            mail["Subject"] = "転入の手続きについて"
            mail["Message-ID"] = f"<isolation-{next(_usernames)}@example.jp>"
            mail.set_content("必要な書類を教えてください。")
            mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="書類.pdf")
            result = mail_receive(raw=mail.as_bytes(), source="pipe")
            assert result.ticket is not None, result
            return MailAttachment.objects.select_related("mail").get(mail__ticket=result.ticket)

        return self._bumped(
            make,
            lambda made: (
                _taken(self.avoid, MailAttachment, pk=made.pk)
                or _taken(self.avoid, Ticket, pk=made.mail.ticket_id)
            ),
        )

    # --- opendata (オープンデータカタログ) ----------------------------------------------------

    @functools.cached_property
    def opendata_dataset(self) -> Any:
        """A published dataset with one CSV; named after the municipality, so B's name
        names nothing at A."""
        from machi.opendata.services import ResourceIn, dataset_publish

        with tenant_context(self.lg_code):
            dataset = dataset_publish(
                slug=f"isolation-{self.lg_code}", title="分離確認のデータ", notes="", tags=[],
                frequency="ANNUAL",
                resources=[ResourceIn(name="表", format="CSV", content=b"a,b\r\n1,2\r\n",
                                      media_type="text/csv")],
            )  # fmt: skip
            return dataset, dataset.resources.get()

    # --- local events (地域イベント) ---------------------------------------------------------

    def _event_data(self, **values: Any) -> Any:
        from django.utils import timezone

        from machi.localevents.models import Category
        from machi.localevents.services import EventData

        day = timezone.localdate() + datetime.timedelta(days=7)
        return EventData(
            title={"ja": "分離確認の催し"}, description={"ja": "説明です。"}, starts_on=day,
            ends_on=day, place_name="公民館", category=Category.objects.get(code="other"),
            **values,
        )  # fmt: skip

    @functools.cached_property
    def local_event(self) -> Any:
        """A residents' group's event, confirmed and approved (its secret kept)."""
        from machi.localevents.models import Event
        from machi.localevents.services import event_approve, event_confirm, event_submit

        def make() -> Any:
            sent = event_submit(
                data=self._event_data(), organiser_name="町内会", email="chonai@example.jp"
            )
            event_confirm(event=sent.event, secret=sent.confirm_secret)
            event_approve(event=sent.event, actor=self.staff)
            return sent

        return self._bumped(make, lambda made: _taken(self.avoid, Event, pk=made.event.pk))

    @functools.cached_property
    def official_event(self) -> Any:
        from machi.localevents.models import Event
        from machi.localevents.services import official_event_save

        return self._bumped(
            lambda: official_event_save(data=self._event_data(), actor=self.staff),
            lambda made: _taken(self.avoid, Event, pk=made.pk),
        )

    def local_event_edit_token(self) -> str:
        from machi.localevents.mail import edit_token

        with tenant_context(self.lg_code):
            return edit_token(self.local_event.event)

    # --- public comment (パブリックコメント) ---------------------------------------------------

    def _consultation_draft(self) -> Any:
        """A draft of the 市民課 with its PDF, open from today for 30 days."""
        from django.utils import timezone

        from machi.publiccomment.services import consultation_create, document_add

        draft = consultation_create(
            title="市民課窓口の受付時間の見直し", summary="平日の受付時間を変えます。",
            department="shimin", first_day=timezone.localdate(), actor=self.staff,
        )  # fmt: skip
        document_add(
            consultation=draft, title="見直し案", filename="案.pdf", content=PDF, actor=self.staff
        )
        return draft

    def _consultation_clash(self, made: Any) -> bool:
        from machi.publiccomment.models import Consultation, Document

        with tenant_context(self.lg_code):
            documents = list(made.documents.values_list("pk", flat=True))
        return _taken(self.avoid, Consultation, pk=made.pk) or _taken(
            self.avoid, Document, pk__in=documents
        )

    @functools.cached_property
    def consultation_draft(self) -> Any:
        """A consultation not yet published (准備中): the staff may still edit it."""
        return self._bumped(self._consultation_draft, self._consultation_clash)

    @functools.cached_property
    def consultation(self) -> Any:
        """A published consultation whose period runs now."""
        from machi.publiccomment.services import consultation_publish

        return self._bumped(
            lambda: consultation_publish(consultation=self._consultation_draft(), actor=self.staff),
            self._consultation_clash,
        )

    @property
    def consultation_document(self) -> Any:
        with tenant_context(self.lg_code):
            return self.consultation.documents.get()

    @functools.cached_property
    def consultation_comment(self) -> Any:
        """A resident's comment on the published consultation, with a PDF attachment."""
        from machi.publiccomment.models import Comment
        from machi.publiccomment.services import Submission, comment_submit

        return self._bumped(
            lambda: comment_submit(
                consultation=self.consultation,
                submission=Submission(
                    body="土曜日も開けてほしい。", attachment_name="意見.pdf", attachment=PDF
                ),
            ),
            lambda made: _taken(self.avoid, Comment, pk=made.pk),
        )

    # --- the website (machi.site.tests.isolation) --------------------------------------------

    def _site(self, name: str) -> Any:
        from machi.site.tests import isolation

        make = getattr(isolation, name)
        with tenant_context(self.lg_code):
            return self._bumped(lambda: make(self.staff), lambda m: isolation.clash(self.avoid, m))

    site_page = functools.cached_property(lambda self: self._site("site_page"))
    site_news = functools.cached_property(lambda self: self._site("site_news"))
    site_image = functools.cached_property(lambda self: self._site("site_image"))
    site_file = functools.cached_property(lambda self: self._site("site_file"))

    # announce (machi.announce.tests.isolation)
    def _announce(self, name: str) -> Any:
        from machi.announce.tests import isolation

        make = getattr(isolation, name)
        with tenant_context(self.lg_code):
            return self._bumped(lambda: make(self.staff), lambda m: isolation.clash(self.avoid, m))

    announce_published = functools.cached_property(lambda s: s._announce("announce_published"))
    announce_draft = functools.cached_property(lambda s: s._announce("announce_draft"))
    announce_secret = functools.cached_property(lambda s: s._announce("confirm_secret"))
    announce_token = functools.cached_property(lambda s: s._announce("unsubscribe_token"))

    # --- board (machi.board.tests.isolation) --------------------------------------------------

    @functools.cached_property
    def board(self) -> Any:
        from machi.board.tests import isolation

        with tenant_context(self.lg_code):
            return self._bumped(
                lambda: isolation.board_objects(self.staff),
                lambda made: isolation.clash(self.avoid, made),
            )

    # activitypub: a Note per municipality, its key naming the municipality
    @functools.cached_property
    def activitypub_note(self) -> Any:
        from machi.activitypub.tests import isolation

        with tenant_context(self.lg_code):
            return isolation.note()


def _filing(prefix: str, **fields: str) -> Callable[[World], dict[str, Any]]:
    """A valid body of a registry change form (``prefix``-ed fields, dates of a filing)."""

    def data(world: World) -> dict[str, Any]:
        values = {"effective_on": "2026-05-01", "filed_on": datetime.date.today().isoformat()}
        return {f"{prefix}-{k}": v for k, v in {**values, **fields}.items()}

    return data


@dataclass(frozen=True)
class IdRoute:
    """``kwargs(world)``: the URL's arguments besides lg_code; ``data(world)``: a valid
    request body; ``ok``: the statuses of success; ``api``: a Bearer-token route."""

    kwargs: Callable[[World], dict[str, Any]]
    method: str = "get"
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    ok: tuple[int, ...] = (200,)
    content_type: str = "text/html"
    api: bool = False
    page: bool = True  # a staff page worth a screenshot (GET, HTML)
    # Follow redirects: a public page that sends an unknown id on to the page that
    # answers 404 for it (public comment's "sent" page, to the consultation).
    follow: bool = False


def _opendata_file() -> Any:  # opendata: a fresh upload for each request
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("x.csv", b"a,b\r\n3,4\r\n", content_type="text/csv")


def _resident(world: World) -> dict[str, Any]:
    return {"atena_number": world.head.atena_number}


def _visit(world: World) -> dict[str, Any]:
    return {"code": world.visit.public_code}


def _subscription(world: World) -> dict[str, Any]:
    return {"pk": world.subscription.pk}


def _request(world: World) -> dict[str, Any]:
    return {"pk": world.request.pk}


def _public_request(world: World) -> dict[str, Any]:
    return {"public_code": world.request.public_code}


def _category(world: World) -> dict[str, Any]:
    return {"pk": world.request_category.pk}


def _attribute(world: World) -> dict[str, Any]:
    return {"pk": world.request_category.pk, "attribute_pk": world.request_attribute.pk}


def _attribute_form(prefix: str, code: str) -> dict[str, Any]:
    fields = {"code": code, "description": "近くの目印", "datatype": "string", "order": "1"}
    return {f"{prefix}-{k}": v for k, v in fields.items()}


def _template(world: World) -> dict[str, Any]:
    return {"pk": world.response_template.pk}


def _ticket(world: World) -> dict[str, Any]:
    return {"pk": world.contact_ticket.pk}


def _faq(world: World) -> dict[str, Any]:
    return {"pk": world.faq_answer.pk}


def _quarantine(world: World) -> dict[str, Any]:
    return {"pk": world.quarantined_mail.pk}


def _local_event(world: World) -> dict[str, Any]:
    return {"pk": world.local_event.event.pk}


def _consultation(world: World) -> dict[str, Any]:
    return {"pk": world.consultation.pk}


def _consultation_document(world: World) -> dict[str, Any]:
    return {"pk": world.consultation.pk, "document_pk": world.consultation_document.pk}


def _consultation_edit(world: World) -> dict[str, Any]:
    from django.utils import timezone

    today = timezone.localdate()
    return {
        "title": "市民課窓口の受付時間の見直し（修正）",
        "summary": "平日と土曜の受付時間を変えます。",
        "department": "shimin", "first_day": today.isoformat(),
        "last_day": (today + datetime.timedelta(days=40)).isoformat(), "identity_rule": "optional",
    }  # fmt: skip


ID_ROUTES: dict[str, IdRoute] = {
    # opendata
    "<lg:lg_code>/api/3/action/<str:name>": IdRoute(
        lambda w: {"name": "package_list"}, content_type="application/json", page=False
    ),
    "<lg:lg_code>/api/action/<str:name>": IdRoute(
        lambda w: {"name": "package_list"}, content_type="application/json", page=False
    ),
    "<lg:lg_code>/opendata/staff/<slug:dataset>/": IdRoute(
        lambda w: {"dataset": w.opendata_dataset[0].name}
    ),
    "<lg:lg_code>/opendata/staff/<slug:dataset>/upload/": IdRoute(
        lambda w: {"dataset": w.opendata_dataset[0].name},
        method="post",
        ok=(302,),
        data=lambda w: {"resource_name": "表", "format": "CSV", "file": _opendata_file()},
    ),
    "<lg:lg_code>/opendata/staff/<slug:dataset>/<slug:action>/": IdRoute(
        lambda w: {"dataset": w.opendata_dataset[0].name, "action": "unpublish"},
        method="post",
        ok=(302,),
    ),
    "<lg:lg_code>/opendata/<slug:dataset>/": IdRoute(
        lambda w: {"dataset": w.opendata_dataset[0].name}, page=False
    ),
    "<lg:lg_code>/opendata/<slug:dataset>/resource/<str:resource_id>/": IdRoute(
        lambda w: {
            "dataset": w.opendata_dataset[0].name,
            "resource_id": w.opendata_dataset[1].uuid,
        },
        content_type="text/csv",
        page=False,
    ),
    "<lg:lg_code>/opendata/<slug:dataset>/resource/<str:resource_id>/v/<int:number>/": IdRoute(
        lambda w: {
            "dataset": w.opendata_dataset[0].name,
            "resource_id": w.opendata_dataset[1].uuid,
            "number": 1,
        },
        content_type="text/csv",
        page=False,
    ),
    # /opendata
    "<lg:lg_code>/admin/api-clients/<int:pk>/revoke/": IdRoute(
        lambda w: {"pk": w.api_client[0].pk}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/admin/subscriptions/<int:pk>/": IdRoute(_subscription),
    "<lg:lg_code>/admin/subscriptions/<int:pk>/disable/": IdRoute(
        _subscription, method="post", ok=(302,)
    ),
    "<lg:lg_code>/admin/subscriptions/<int:pk>/resend/": IdRoute(
        _subscription, method="post", data=lambda w: {"all": "1"}, ok=(302,)
    ),
    # --- the contact center ---
    "<lg:lg_code>/contact/faq/<int:pk>/": IdRoute(_faq),
    "<lg:lg_code>/contact/faq/categories/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.faq_category.pk, "action": "rename"},
        method="post",
        data=lambda w: {"name": "防災・減災"},
        ok=(302,),
    ),
    "<lg:lg_code>/contact/faq/synonyms/<int:pk>/delete/": IdRoute(
        lambda w: {"pk": w.faq_synonym.pk}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/contact/mail/quarantine/<int:pk>/": IdRoute(_quarantine),
    "<lg:lg_code>/contact/mail/quarantine/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {**_quarantine(w), "action": "discard"}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/contact/tickets/<int:pk>/": IdRoute(_ticket),
    "<lg:lg_code>/contact/tickets/<int:ticket_pk>/attachments/<int:pk>/": IdRoute(
        lambda w: {"ticket_pk": w.mail_attachment.mail.ticket_id, "pk": w.mail_attachment.pk},
        content_type="application/pdf",
        page=False,
    ),
    "<lg:lg_code>/contact/tickets/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {**_ticket(w), "action": "note"},
        method="post",
        data=lambda w: {"note-body": "折り返しの電話を希望。"},
        ok=(302,),
    ),
    # public: the resident's FAQ answer and its 役に立った vote
    "<lg:lg_code>/faq/<int:pk>/": IdRoute(_faq, page=False),
    "<lg:lg_code>/faq/<int:pk>/feedback/": IdRoute(
        _faq, method="post", data=lambda w: {"helped": "1"}, ok=(302,)
    ),
    # --- local events: the staff pages, then the public event, its feed, links and report ---
    "<lg:lg_code>/events/staff/<int:pk>/": IdRoute(_local_event),
    "<lg:lg_code>/events/staff/<int:pk>/edit/": IdRoute(lambda w: {"pk": w.official_event.pk}),
    "<lg:lg_code>/events/staff/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {**_local_event(w), "action": "hide"},
        method="post",
        data=lambda w: {"reason": "分離確認"},
        ok=(302,),
    ),
    "<lg:lg_code>/events/<int:pk>/": IdRoute(_local_event, page=False),
    "<lg:lg_code>/events/<int:pk>.ics": IdRoute(
        _local_event, content_type="text/calendar", page=False
    ),
    "<lg:lg_code>/events/<int:pk>/report/": IdRoute(_local_event, page=False),
    "<lg:lg_code>/events/<int:pk>/confirm/<str:secret>/": IdRoute(
        lambda w: {**_local_event(w), "secret": w.local_event.confirm_secret},
        method="post",
        page=False,
    ),
    "<lg:lg_code>/events/edit/<str:token>/": IdRoute(
        lambda w: {"token": w.local_event_edit_token()}, page=False
    ),
    # --- public comment ---
    "<lg:lg_code>/public-comment/<int:pk>/": IdRoute(_consultation, page=False),
    "<lg:lg_code>/public-comment/<int:pk>/documents/<int:document_pk>/": IdRoute(
        _consultation_document, content_type="application/pdf", page=False
    ),
    # Without a comment sent in this session the page sends the visitor to the consultation.
    "<lg:lg_code>/public-comment/<int:pk>/done/": IdRoute(_consultation, page=False, follow=True),
    "<lg:lg_code>/public-comment/staff/<int:pk>/": IdRoute(_consultation),
    "<lg:lg_code>/public-comment/staff/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.consultation_draft.pk, "action": "edit"},
        method="post",
        data=_consultation_edit,
        ok=(302,),
    ),
    "<lg:lg_code>/public-comment/staff/<int:pk>/comments/<int:comment_pk>/attachment/": IdRoute(
        lambda w: {**_consultation(w), "comment_pk": w.consultation_comment.pk},
        content_type="application/pdf",
        page=False,
    ),
    "<lg:lg_code>/public-comment/staff/<int:pk>/documents/<int:document_pk>/": IdRoute(
        _consultation_document, content_type="application/pdf", page=False
    ),
    # --- the website: public pages, news, images, files; the staff's pages and versions ---
    "<lg:lg_code>/pages/<path:path>/": IdRoute(lambda w: {"path": w.site_page.path}, page=False),
    "<lg:lg_code>/news/<int:pk>/": IdRoute(lambda w: {"pk": w.site_news.pk}, page=False),
    "<lg:lg_code>/site/images/<int:pk>/": IdRoute(
        lambda w: {"pk": w.site_image.pk}, content_type="image/png", page=False
    ),
    "<lg:lg_code>/site/files/<int:pk>/": IdRoute(
        lambda w: {"pk": w.site_file.pk}, content_type="application/pdf", page=False
    ),
    "<lg:lg_code>/site/staff/pages/<int:pk>/": IdRoute(lambda w: {"pk": w.site_page.pk}),
    "<lg:lg_code>/site/staff/news/<int:pk>/": IdRoute(lambda w: {"pk": w.site_news.pk}),
    "<lg:lg_code>/site/staff/versions/<int:pk>/": IdRoute(
        lambda w: {"pk": w.site_page.newer_version.pk}
    ),
    "<lg:lg_code>/site/staff/versions/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.site_page.newer_version.pk, "action": "submit"},
        method="post",
        ok=(302,),
    ),
    # announce: the public announcement, its CAP alert, the subscriber's links, then the
    # staff's pages
    "<lg:lg_code>/announcements/<int:pk>/": IdRoute(
        lambda w: {"pk": w.announce_published.pk}, page=False
    ),
    "<lg:lg_code>/announcements/<int:pk>/cap.xml": IdRoute(
        lambda w: {"pk": w.announce_published.pk}, content_type="application/cap+xml", page=False
    ),
    "<lg:lg_code>/announcements/subscribe/confirm/<str:secret>/": IdRoute(
        lambda w: {"secret": w.announce_secret}, page=False
    ),
    "<lg:lg_code>/announcements/unsubscribe/<str:token>/": IdRoute(
        lambda w: {"token": w.announce_token}, page=False
    ),
    "<lg:lg_code>/announcements/staff/<int:pk>/": IdRoute(
        lambda w: {"pk": w.announce_published.pk}
    ),
    "<lg:lg_code>/announcements/staff/<int:pk>/edit/": IdRoute(
        lambda w: {"pk": w.announce_draft.pk}
    ),
    "<lg:lg_code>/announcements/staff/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.announce_published.pk, "action": "withdraw"}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/announcements/staff/<int:pk>/deliveries/<int:delivery_pk>/retry/": IdRoute(
        lambda w: {
            "pk": w.announce_published.pk,
            "delivery_pk": w.announce_published.failed_delivery,
        },
        method="post",
        ok=(302,),
    ),
    # board: public pages (a staff member is no board user: writing sends to the board's
    # sign-in), then the moderators' pages
    "<lg:lg_code>/board/c/<slug:code>/": IdRoute(
        lambda w: {"code": w.board.category.code}, page=False
    ),
    "<lg:lg_code>/board/confirm/<str:token>/": IdRoute(
        lambda w: {"token": w.board.token}, method="post", page=False
    ),
    "<lg:lg_code>/board/t/<int:pk>/": IdRoute(lambda w: {"pk": w.board.thread.pk}, page=False),
    "<lg:lg_code>/board/t/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.board.thread.pk, "action": "follow"},
        method="post",
        ok=(302,),
        page=False,
    ),
    "<lg:lg_code>/board/p/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.board.reply.pk, "action": "react"},
        method="post",
        ok=(302,),
        page=False,
    ),
    "<lg:lg_code>/board/staff/t/<int:pk>/": IdRoute(lambda w: {"pk": w.board.thread.pk}),
    "<lg:lg_code>/board/staff/t/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.board.thread.pk, "action": "pin"}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/board/staff/p/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.board.reply.pk, "action": "hide"},
        method="post",
        data=lambda w: {"reason": "分離確認"},
        ok=(302,),
    ),
    "<lg:lg_code>/board/staff/u/<int:pk>/": IdRoute(lambda w: {"pk": w.board.user.pk}),
    "<lg:lg_code>/board/staff/u/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.board.user.pk, "action": "warn"},
        method="post",
        data=lambda w: {"reason": "分離確認"},
        ok=(302,),
    ),
    "<lg:lg_code>/board/staff/appeals/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.board.appeal.pk, "action": "reject"},
        method="post",
        data=lambda w: {"reason": "分離確認"},
        ok=(302,),
    ),
    "<lg:lg_code>/board/staff/words/<int:pk>/delete/": IdRoute(
        lambda w: {"pk": w.board.word.pk}, method="post", ok=(302,)
    ),
    # activitypub: the Note (JSON for anyone; another municipality's key is not found)
    "ap/<lg:lg_code>/notes/<str:object_key>": IdRoute(
        lambda w: {"object_key": w.activitypub_note.object_key},
        content_type="application/activity+json",
        page=False,
    ),
    # --- requests ---
    "<lg:lg_code>/requests/admin/categories/<int:pk>/": IdRoute(_category),
    "<lg:lg_code>/requests/admin/categories/<int:pk>/attributes/": IdRoute(
        _category, method="post", data=lambda w: _attribute_form("attr", "landmark"), ok=(302,)
    ),
    "<lg:lg_code>/requests/admin/categories/<int:pk>/attributes/<int:attribute_pk>/": IdRoute(
        _attribute,
        method="post",
        data=lambda w: _attribute_form(f"attr{w.request_attribute.pk}", w.request_attribute.code),
        ok=(302,),
    ),
    "<lg:lg_code>/requests/admin/categories/<int:pk>/attributes/<int:attribute_pk>/delete/": (
        IdRoute(_attribute, method="post", ok=(302,))
    ),
    "<lg:lg_code>/requests/staff/<int:pk>/": IdRoute(_request),
    "<lg:lg_code>/requests/staff/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {**_request(w), "action": "answer"},
        method="post",
        data=lambda w: {"text": "現地を確認します。", "visibility": "internal"},
        ok=(302,),
    ),
    "<lg:lg_code>/requests/staff/<int:pk>/reporter/": IdRoute(_request, method="post"),
    "<lg:lg_code>/requests/staff/templates/<int:pk>/": IdRoute(_template),
    "<lg:lg_code>/requests/staff/templates/<int:pk>/delete/": IdRoute(
        _template, method="post", ok=(302,)
    ),
    # public: the resident's request page, its photo, the follower's links from the mail
    "<lg:lg_code>/requests/unsubscribe/<str:token>/": IdRoute(
        lambda w: {"token": w.unsubscribe_token()}, page=False
    ),
    "<lg:lg_code>/requests/<str:public_code>/": IdRoute(_public_request, page=False),
    "<lg:lg_code>/requests/<str:public_code>/confirm/<str:secret>/": IdRoute(
        lambda w: {**_public_request(w), "secret": w.filed.confirm_secret},
        method="post",
        page=False,
    ),
    "<lg:lg_code>/requests/<str:public_code>/photos/<int:pk>/": IdRoute(
        lambda w: {**_public_request(w), "pk": w.request_photo.pk},
        content_type="image/jpeg",
        page=False,
    ),
    "<lg:lg_code>/counter/intake/done/<str:code>/": IdRoute(_visit),
    # ``step`` names a step of the intake, not an object: only the tenant check applies.
    "<lg:lg_code>/counter/intake/step/<slug:step>/": IdRoute(lambda w: {"step": "event"}),
    "<lg:lg_code>/counter/moves/<str:reservation_id>/": IdRoute(
        lambda w: {"reservation_id": str(w.reservation.public_id)}
    ),
    "<lg:lg_code>/counter/moves/<str:reservation_id>/intake/": IdRoute(
        lambda w: {"reservation_id": str(w.reservation.public_id)}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/counter/tasks/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.task.pk, "action": "take"}, method="post", ok=(200, 302)
    ),
    "<lg:lg_code>/counter/tickets/<int:pk>/<slug:action>/": IdRoute(
        lambda w: {"pk": w.ticket.pk, "action": "cancel"},
        method="post",
        data=lambda w: {"from": "reception"},
        ok=(302,),
    ),
    "<lg:lg_code>/households/<str:household_number>/": IdRoute(
        lambda w: {"household_number": w.head.household.household_number}
    ),
    "<lg:lg_code>/preapply/<str:code>/": IdRoute(lambda w: {"code": w.preapplication.code}),
    "<lg:lg_code>/residents/<str:atena_number>/": IdRoute(_resident),
    "<lg:lg_code>/residents/<str:atena_number>/death/": IdRoute(
        _resident, method="post", data=_filing("death"), ok=(302,)
    ),
    "<lg:lg_code>/residents/<str:atena_number>/move-out/": IdRoute(
        _resident,
        method="post",
        data=_filing("out", destination="北海道札幌市中央区北1条西2丁目"),
        ok=(302,),
    ),
    "<lg:lg_code>/residents/<str:atena_number>/move-within/": IdRoute(
        _resident,
        method="post",
        data=_filing("move", prefecture="東京都", city="千代田区", machiaza="二丁目"),
        ok=(302,),
    ),
    "<lg:lg_code>/residents/<str:atena_number>/moves/<str:move_id>/retry/": IdRoute(
        lambda w: {
            "atena_number": w.intake.atena_numbers["p2"],
            "move_id": str(w.outgoing_move.public_id),
        },
        method="post",
        ok=(302,),
    ),
    "<lg:lg_code>/residents/<str:atena_number>/my-number/": IdRoute(
        _resident, method="post", data=lambda w: {"reveal-purpose": "国民健康保険の資格確認"}
    ),
    "<lg:lg_code>/residents/<str:atena_number>/name-change/": IdRoute(
        _resident,
        method="post",
        data=_filing("name", reason="marriage", name="佐藤 一郎"),
        ok=(302,),
    ),
    "<lg:lg_code>/staff/<int:staff_id>/reset-password/": IdRoute(
        lambda w: {"staff_id": w.colleague.pk}, method="post"
    ),
    "<lg:lg_code>/staff/<int:staff_id>/mfa-reset/": IdRoute(
        lambda w: {"staff_id": w.colleague.pk}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/staff/mfa-reset/<int:request_id>/approve/": IdRoute(
        lambda w: {"request_id": w.mfa_reset.pk}, method="post", ok=(302,)
    ),
    "<lg:lg_code>/visits/<str:code>/": IdRoute(_visit, page=False),  # public: the resident's
    "<lg:lg_code>/visits/<str:code>/documents/": IdRoute(_visit),
    "<lg:lg_code>/visits/<str:code>/documents/all.pdf": IdRoute(
        _visit, content_type="application/pdf", page=False
    ),
    "<lg:lg_code>/visits/<str:code>/documents/<slug:name>.pdf": IdRoute(
        lambda w: {**_visit(w), "name": w.document},
        content_type="application/pdf",
        page=False,
    ),
    "api/v1/<lg_code>/residents/<atena_number>": IdRoute(
        _resident, content_type="application/json", api=True, page=False
    ),
}
