"""The web contact form: suggestions before sending (htmx and without script), a ticket
with channel web and a receipt number, bad input named by field and nothing saved,
the honeypot, the limit per address, and deflection counted."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from machi.contact import abuse
from machi.contact.models import Channel, FaqSearch, Ticket
from machi.contact.services.faq import faq_load_default

pytestmark = pytest.mark.django_db(databases="__all__")

FORM = "/131016/contact/"
QUESTION = "住民票を取りたいのですが、土曜日も窓口は開いていますか。"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def faq(in_a):
    faq_load_default()


def test_without_script_the_first_send_shows_answers_then_confirm_sends(faq, client: Client):
    page = client.post(FORM, {"question": QUESTION, "name": "山田 花子",
                              "email": "hanako@example.jp"})  # fmt: skip
    assert page.status_code == 200
    html = page.content.decode()
    assert "この回答で解決しませんか" in html and "住民票の写しの請求" in html
    assert 'name="confirm" value="1"' in html
    assert not Ticket.objects.exists()
    data = {"question": QUESTION, "name": "山田 花子", "email": "hanako@example.jp"}
    done = client.post(FORM, {**data, "confirm": "1"}, follow=True)
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.contact_name, ticket.contact_email) == (
        Channel.WEB, "山田 花子", "hanako@example.jp")  # fmt: skip
    assert ticket.articles.get().body == QUESTION
    assert ticket.subject == QUESTION  # its first line, under 60 characters
    assert ticket.topic == "koseki-juminhyo"  # the best answer's category
    assert done.redirect_chain[-1][0] == "/131016/contact/done/"
    assert ticket.number in done.content.decode()
    # one question, one search, followed by the ticket: not deflected
    assert list(FaqSearch.objects.values_list("ticket_id", flat=True)) == [ticket.pk]


def test_htmx_suggestions_while_typing(faq, client: Client):
    client.get(FORM)
    for typed in ("住民票", "住民票を取り", "住民票を取りたい"):
        part = client.get("/131016/contact/suggestions/", {"question": typed},
                          headers={"HX-Request": "true"})  # fmt: skip
        assert part.status_code == 200
    html = part.content.decode()
    assert "住民票の写しの請求" in html and 'name="confirm" value="1"' in html
    assert "<html" not in html  # a fragment
    # one form, one question: the search is revised as the resident types
    assert FaqSearch.objects.get().query == "住民票を取りたい"
    assert not Ticket.objects.exists()
    empty = client.get("/131016/contact/suggestions/")
    assert empty.status_code == 200 and "cc-suggestions" not in empty.content.decode()


def test_no_answer_sends_at_once_without_a_name(faq, client: Client):
    response = client.post(FORM, {"question": "xyzzy の件で相談したい"})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.contact_name, ticket.contact_email, ticket.topic) == ("", "", "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"question": "   "}, "question", "お問い合わせの内容を入力してください。"),
        (
            {"question": "あ" * 4001},
            "question",
            "4000 文字以内にしてください。",
        ),
        (
            {"question": "質問", "email": "not-a-mail"},
            "email",
            "メールアドレスの形",
        ),
        (
            {"question": "質問", "name": "あ" * 101},
            "name",
            "お名前は 100 文字以内",
        ),
        ({"question": "質問", "topic": "nowhere"}, "topic", "分類を一覧から選んでください。"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(faq, client: Client, data, field, message):
    page = client.post(FORM, {**data, "confirm": "1"})
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html
    assert f'aria-describedby="id_{field}_error' in html and 'aria-invalid="true"' in html
    assert f'href="#id_{field}"' in html  # the summary links to the field
    assert not Ticket.objects.exists()


def test_html_is_kept_as_text(faq, client: Client):
    client.post(FORM, {"question": "<b>太字</b>\u0007の質問", "confirm": "1"})
    assert Ticket.objects.get().articles.get().body == "<b>太字</b>の質問"


def test_honeypot(faq, client: Client):
    page = client.post(FORM, {"question": "質問", "website": "http://spam.example", "confirm": "1"})
    assert page.status_code == 400
    assert "この欄には何も入力しないでください。" in page.content.decode()
    assert not Ticket.objects.exists()


def test_csrf_is_required(faq):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(FORM, {"question": "質問", "confirm": "1"}).status_code == 403
    assert not Ticket.objects.exists()


def test_limit_per_address(faq):
    client = Client(REMOTE_ADDR="192.0.2.10")
    for n in range(abuse.TICKET_LIMIT):
        assert client.post(FORM, {"question": f"質問 {n}", "confirm": "1"}).status_code == 302
    refused = client.post(FORM, {"question": "もう一つ", "confirm": "1"})
    assert refused.status_code == 429
    assert "しばらくしてからもう一度お試しください" in refused.content.decode()
    assert Ticket.objects.count() == abuse.TICKET_LIMIT
    # another address is not held back
    other = Client(REMOTE_ADDR="192.0.2.11")
    assert other.post(FORM, {"question": "別の方の質問", "confirm": "1"}).status_code == 302


def test_deflection_searches_without_a_ticket(faq, client: Client):
    """The resident searched the FAQ, opened the answer and left: deflected. Another
    searched and then sent the form: not deflected."""
    client.get("/131016/faq/", {"q": "住民票を取りたい"})
    deflected = FaqSearch.objects.get()
    client.get(f"/131016/faq/{deflected.result_ids[0]}/", {"s": deflected.pk})
    asking = Client()
    asking.get("/131016/faq/", {"q": "粗大ごみを出したい"})
    asking.post(FORM, {"question": "粗大ごみの収集日を変えたい", "confirm": "1"})
    ticket = Ticket.objects.get()
    assert set(FaqSearch.objects.filter(ticket=ticket).values_list("query", flat=True)) == {
        "粗大ごみを出したい", "粗大ごみの収集日を変えたい"}  # fmt: skip
    assert FaqSearch.objects.get(pk=deflected.pk).ticket_id is None
    from machi.contact.selectors import contact_metrics

    figures = contact_metrics(since=deflected.created_at.replace(year=2000),
                              until=deflected.created_at.replace(year=2100))  # fmt: skip
    assert (figures["faq_searches_answered"], figures["faq_deflected"]) == (3, 1)
    assert figures["faq_deflection_rate"] == pytest.approx(1 / 3)


def test_done_page_without_a_ticket(faq, client: Client):
    page = client.get("/131016/contact/done/")
    assert page.status_code == 200
    assert "このブラウザーから送られたお問い合わせはありません。" in page.content.decode()
