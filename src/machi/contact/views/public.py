"""The resident's side of the contact center: the public FAQ and the web contact form.

No login (``@public_view``); everything a resident does is remembered only in their
browser session, per municipality (:data:`SESSION_KEY`): the FAQ searches they made
(linked to the ticket if they go on to ask, see :func:`ticket_create`), the answers they
voted on (one vote per answer and session), the search the contact form is revising
while they type, and the receipt number of the ticket just sent.

FAQ deflection (docs/contact.md): every search a resident makes on the FAQ page, and the
one question typed into the contact form (revised as they type, logged once), is a
``FaqSearch``; when they send the form, the searches of their session are linked to the
ticket. A search that showed answers and that no ticket followed is deflected.

The form without script: the first 「送信」 shows the matching answers and asks to
confirm; with htmx the answers appear while typing (``contact_suggestions``), and the
fragment carries ``confirm`` so that one 「送信」 sends.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.contact import abuse
from machi.contact.forms_public import ContactForm, FaqSearchForm, mark_errors
from machi.contact.markup import body_html
from machi.contact.models import Channel, FaqAnswer, FaqCategory, FaqStatus
from machi.contact.selectors import faq_search
from machi.contact.services.faq import faq_feedback, faq_search_log, faq_search_revise
from machi.contact.services.tickets import TicketError, ticket_create
from machi.web.decorators import public_view
from machi.web.language import language_switch

SESSION_KEY = "machi_contact"
SESSION_SEARCHES_MAX = 30
HITS_FAQ = 10
HITS_FORM = 5
SUBJECT_LENGTH = 60


# --- the resident's session ------------------------------------------------------------------


def _state(request: HttpRequest) -> dict[str, Any]:
    """This municipality's part of the session (ids differ between municipalities)."""
    everything = request.session.get(SESSION_KEY, {})
    return everything.get(request.municipality.lg_code, {})


def _state_set(request: HttpRequest, **changes: Any) -> None:
    everything = dict(request.session.get(SESSION_KEY, {}))
    state = {**everything.get(request.municipality.lg_code, {}), **changes}
    everything[request.municipality.lg_code] = state
    request.session[SESSION_KEY] = everything


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _log_search(request: HttpRequest, query: str, hits: list, *, form: bool) -> int | None:
    """Log (or, for the contact form, revise) the resident's search; its id or None."""
    state = _state(request)
    searches: list[int] = list(state.get("searches", []))
    ids = [hit.answer.pk for hit in hits]
    if form and state.get("form_search"):
        revised = faq_search_revise(search_id=state["form_search"], query=query, result_ids=ids)
        if revised is not None:
            return revised.pk
    if not form and state.get("last_query") == query and searches:
        return searches[-1]  # the same page again (reload, back): one search
    if abuse.limit_reached(scope="search", address=_address(request), limit=abuse.SEARCH_LOG_LIMIT):
        return None
    abuse.limit_count(scope="search", address=_address(request))
    logged = faq_search_log(query=query, source="resident", result_ids=ids)
    searches = [*searches, logged.pk][-SESSION_SEARCHES_MAX:]
    changes: dict[str, Any] = {"searches": searches}
    if form:
        changes["form_search"] = logged.pk
    else:
        changes["last_query"] = query
    _state_set(request, **changes)
    return logged.pk


def _no_index(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    return response


# --- the public FAQ --------------------------------------------------------------------------


def _categories() -> list[dict[str, Any]]:
    """Categories with their published answers (two queries), for the FAQ's index."""
    answers: dict[int, list[FaqAnswer]] = {}
    for answer in FaqAnswer.objects.filter(status=FaqStatus.PUBLISHED).only(
        "id", "question", "category_id"
    ):
        answers.setdefault(answer.category_id, []).append(answer)
    return [
        {"category": category, "answers": answers[category.pk]}
        for category in FaqCategory.objects.all()
        if category.pk in answers
    ]


@public_view
@require_GET
@never_cache
def faq_index(request: HttpRequest, lg_code: str) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    form = FaqSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "query": "", "hits": [], "search_id": None}
    status = 200
    if form.is_bound and not form.is_valid():
        mark_errors(form)
        status = 400
    elif form.is_bound and (query := form.cleaned_data["q"].strip()):
        hits = faq_search(query=query, limit=HITS_FAQ)
        context.update(
            query=query, hits=hits, search_id=_log_search(request, query, hits, form=False)
        )
    if not context["query"]:
        context["categories"] = _categories()
    return _no_index(render(request, "contact/public/faq_index.html", context, status=status))


def _published(pk: int) -> FaqAnswer:
    answer = (
        FaqAnswer.objects.select_related("category")
        .filter(pk=pk, status=FaqStatus.PUBLISHED)
        .first()
    )
    if answer is None:  # a draft, another municipality's answer, or none at all
        raise Http404(_("このFAQは見つかりません。"))
    return answer


def _search_ref(request: HttpRequest, value: str | None) -> int | None:
    """A search id from the page's link, if it is one of this session's searches."""
    try:
        search_id = int(value or "")
    except ValueError:
        return None
    return search_id if search_id in _state(request).get("searches", []) else None


@public_view
@require_GET
@never_cache
def faq_answer(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    answer = _published(pk)
    votes = _state(request).get("votes", {})
    context = {
        "answer": answer,
        "answer_html": body_html(answer.answer, "markdown"),
        "voted": votes.get(str(answer.pk)),
        "search_id": _search_ref(request, request.GET.get("s")),
        "query": request.GET.get("q", "")[:200],
    }
    return _no_index(render(request, "contact/public/faq_answer.html", context))


@public_view
@require_POST
@never_cache
def faq_vote(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    """役に立った (helped=1) / 役に立たなかった (helped=0): one vote per answer and
    browser session; a second vote is refused with a message and changes nothing."""
    answer = _published(pk)
    target = reverse("contact:faq_answer", args=[lg_code, answer.pk])
    helped = request.POST.get("helped")
    if helped not in ("1", "0"):
        messages.error(request, _("「役に立った」か「役に立たなかった」を選んでください。"))
        return redirect(f"{target}#feedback")
    votes = dict(_state(request).get("votes", {}))
    if str(answer.pk) in votes:
        messages.info(request, _("この回答の評価はすでに受け付けています。"))
        return redirect(f"{target}#feedback")
    try:
        faq_feedback(
            answer=answer, helped=helped == "1", source="resident",
            search_id=_search_ref(request, request.POST.get("search")),
        )  # fmt: skip
    except TicketError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{target}#feedback")
    votes[str(answer.pk)] = helped
    _state_set(request, votes=votes)
    messages.success(request, _("評価をありがとうございました。"))
    return redirect(f"{target}#feedback")


# --- the web contact form --------------------------------------------------------------------


def _topics() -> list[tuple[str, str]]:
    return list(FaqCategory.objects.values_list("code", "name"))


def _subject(question: str) -> str:
    line = question.strip().splitlines()[0].strip()
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1] + "…"


def _form_page(
    request: HttpRequest, form: ContactForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    mark_errors(form)
    errors = [  # (label, message, the control's id) for the summary at the top
        (form[name].label, error, form[name].auto_id) if name in form.fields else ("", error, "")
        for name, field_errors in (form.errors.items() if form.is_bound else [])
        for error in field_errors
    ]
    context = {"form": form, "errors": errors, **extra}
    return _no_index(render(request, "contact/public/contact_form.html", context, status=status))


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def contact_form(request: HttpRequest, lg_code: str) -> HttpResponse:
    if request.method == "GET":
        if (switch := language_switch(request)) is not None:
            return switch
        if _state(request).get("form_search"):
            _state_set(request, form_search=None)  # a new visit: a new question
        return _form_page(request, ContactForm(topics=_topics()))
    form = ContactForm(request.POST, topics=_topics())
    if form.is_spam:
        form.is_valid()
        form.add_error("website", _("この欄には何も入力しないでください。"))
        return _form_page(request, form, status=400)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    address = _address(request)
    if abuse.limit_reached(scope="ticket", address=address, limit=abuse.TICKET_LIMIT):
        return _form_page(
            request, form, status=429,
            refused=_("短い時間に多くのお問い合わせが送信されました。しばらくしてからもう一度お試しください。"),
        )  # fmt: skip
    question = form.cleaned_data["question"]
    hits = faq_search(query=question, limit=HITS_FORM)
    _log_search(request, question, hits, form=True)
    if hits and request.POST.get("confirm") != "1":
        # Without script: show the answers first and ask to confirm.
        return _form_page(request, form, hits=hits, confirm=True)
    topic = form.cleaned_data["topic"] or (hits[0].answer.category.code if hits else "")
    try:
        ticket = ticket_create(
            channel=Channel.WEB, subject=_subject(question), body=question, actor=None,
            topic=topic, contact_name=form.cleaned_data["name"],
            contact_email=form.cleaned_data["email"],
            faq_search_ids=list(_state(request).get("searches", [])),
        )  # fmt: skip
    except TicketError as error:
        return _form_page(request, form, status=400, refused=" ".join(error.messages))
    abuse.limit_count(scope="ticket", address=address)
    _state_set(request, searches=[], form_search=None, last_query=None, receipt=ticket.number,
               receipt_email=bool(ticket.contact_email))  # fmt: skip
    return redirect("contact:contact_done", lg_code=lg_code)


@public_view
@require_GET
@never_cache
def contact_suggestions(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The answers matching what the resident is typing (htmx, the form's ``question``)."""
    query = (request.GET.get("question") or "").strip()[:200]
    hits = faq_search(query=query, limit=HITS_FORM) if query else []
    if hits:
        _log_search(request, query, hits, form=True)
    return render(
        request, "contact/public/_suggestions.html", {"hits": hits, "query": query, "live": True}
    )


@public_view
@require_GET
@never_cache
def contact_done(request: HttpRequest, lg_code: str) -> HttpResponse:
    state = _state(request)  # no receipt in this session: the page says so
    return _no_index(
        render(
            request,
            "contact/public/contact_done.html",
            {"number": state.get("receipt"), "by_mail": state.get("receipt_email")},
        )
    )
