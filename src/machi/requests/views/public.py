"""The resident's side of requests (要望・通報): file one without an account, follow it
by mail, read public requests. Public pages never read RequestReporter (but the
confirmation and unsubscribe links, which touch only the follower flags)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from machi.contact.views.public import _no_index
from machi.requests import abuse, mail, photos
from machi.requests.forms import RequestForm, mark_errors
from machi.requests.models import Request, RequestPhoto, RequestReporter, UpdateKind
from machi.requests.selectors import category_list_active
from machi.requests.services import Reporter, RequestError, request_create
from machi.tenancy.context import current_tenant_alias
from machi.web.decorators import public_view
from machi.web.language import language_switch

SESSION_KEY = "machi_requests_filed"
PAGE_SIZE = 20


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _categories() -> list:
    return list(category_list_active())


def _form_page(
    request: HttpRequest, form: RequestForm, *, status: int = 200, refused: str = ""
) -> HttpResponse:
    mark_errors(form)
    errors = [
        (form[name].label, error, form[name].auto_id) if name in form.fields else ("", error, "")
        for name, field_errors in (form.errors.items() if form.is_bound else [])
        for error in field_errors
    ]
    groups = [
        (c, [form[RequestForm.attr_name(c, a)] for a in c.attributes.all()])
        for c in form.categories.values()
    ]
    context = {
        "form": form, "errors": errors, "refused": refused, "groups": groups,
        "tile_url": settings.MACHI_REQUESTS_MAP_TILE_URL,
    }  # fmt: skip
    return _no_index(render(request, "requests/public/new.html", context, status=status))


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def request_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    categories = _categories()
    if request.method == "GET":
        if (switch := language_switch(request)) is not None:
            return switch
        return _form_page(request, RequestForm(categories=categories))
    form = RequestForm(request.POST, request.FILES, categories=categories)
    if form.is_spam:
        form.is_valid()
        form.add_error("website", _("この欄には何も入力しないでください。"))
        return _form_page(request, form, status=400)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    data = form.cleaned_data
    address = _address(request)
    if abuse.limit_reached(address=address, email=data["email"]):
        return _form_page(
            request, form, status=429,
            refused=_("短い時間に多くの要望が送信されました。しばらくしてからもう一度お試しください。"),
        )  # fmt: skip
    stored: list[str] = []
    try:
        with transaction.atomic(using=current_tenant_alias()):
            filed = request_create(
                category=form.category_obj, description=data["description"],
                lat=data["lat"], long=data["long"], address=data["address"],
                attributes=form.attribute_values(), reporter=Reporter(email=data["email"]),
            )  # fmt: skip
            for order, photo in enumerate(data["photos"]):
                name = photos.store(photo)
                stored.append(name)
                RequestPhoto.objects.create(
                    request=filed.request, file=name, width=photo.width,
                    height=photo.height, order=order,
                )  # fmt: skip
    except RequestError as error:
        for name in stored:
            photos.remove(name)
        return _form_page(request, form, status=400, refused=" ".join(error.messages))
    abuse.limit_count(address=address, email=data["email"])
    if filed.confirm_secret:
        try:
            mail.send_confirmation(
                request=filed.request, email=data["email"], secret=filed.confirm_secret
            )
        except OSError:
            mail.log.exception("confirmation mail for request %s not sent", filed.request.pk)
    request.session[SESSION_KEY] = {
        "lg": lg_code, "code": filed.request.public_code, "mail": bool(filed.confirm_secret),
    }  # fmt: skip
    return redirect("requests:public_filed", lg_code=lg_code)


@public_view
@require_GET
@never_cache
def request_filed(request: HttpRequest, lg_code: str) -> HttpResponse:
    state = request.session.get(SESSION_KEY) or {}
    if state.get("lg") != lg_code:
        state = {}
    return _no_index(render(request, "requests/public/filed.html", {"state": state}))


def _listed(public_code: str) -> Request:
    """A public request by code; 404 if there is none in this municipality."""
    found = Request.objects.select_related("category", "duplicate_of").filter(
        public_code=public_code
    )
    item = found.first()
    if item is None:
        raise Http404
    return item


@public_view
@require_GET
def request_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    qs = (
        Request.objects.filter(is_public=True, hidden_at__isnull=True)
        .select_related("category")
        .order_by("-requested_at", "-id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "requests/public/list.html", {"page": page})


@public_view
@require_GET
def request_public(request: HttpRequest, lg_code: str, public_code: str) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    item = _listed(public_code)
    context: dict[str, Any] = {"item": item}
    if item.is_listed:
        context["updates"] = list(
            item.updates.filter(is_public=True)
            .exclude(kind=UpdateKind.MERGE)
            .order_by("created_at", "id")
        )
        context["photos"] = list(item.photos.all())
        context["duplicates"] = list(item.duplicates.filter(is_public=True, hidden_at__isnull=True))
        original = item.duplicate_of
        context["original"] = original if original is not None and original.is_listed else None
    return render(request, "requests/public/detail.html", context)


@public_view
@require_GET
def request_photo(request: HttpRequest, lg_code: str, public_code: str, pk: int) -> HttpResponse:
    item = _listed(public_code)
    if not item.is_listed:
        raise Http404
    photo = RequestPhoto.objects.filter(request=item, pk=pk).first()
    if photo is None:
        raise Http404
    try:
        handle = photos.storage().open(photo.file, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=300"
    return response


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def request_confirm(
    request: HttpRequest, lg_code: str, public_code: str, secret: str
) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open links confirm nothing."""
    from machi.requests.services import request_reporter_confirm

    item = _listed(public_code)
    if request.method == "GET":
        return _no_index(render(request, "requests/public/confirm.html", {"item": item}))
    done = request_reporter_confirm(request=item, secret=secret)
    return _no_index(
        render(
            request,
            "requests/public/confirm.html",
            {"item": item, "done": done},
            status=200 if done else 400,
        )
    )


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def request_unsubscribe(request: HttpRequest, lg_code: str, token: str) -> HttpResponse:
    pk = mail.unsubscribe_check(token)
    if pk is None:
        raise Http404
    if request.method == "POST":
        RequestReporter.objects.filter(request_id=pk).update(
            email_confirmed_at=None, confirm_token_hash=""
        )
        return _no_index(render(request, "requests/public/unsubscribe.html", {"done": True}))
    return _no_index(render(request, "requests/public/unsubscribe.html", {"done": False}))
