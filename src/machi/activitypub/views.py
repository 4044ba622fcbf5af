"""The public ActivityPub endpoints: WebFinger, NodeInfo, the actor and its collections,
the Notes and the inbox. Thin: documents are built in ``documents``, the inbox is
``inbox.inbox_receive``."""

from __future__ import annotations

import hashlib
import io
import logging
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.request import validate_host
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from machi.activitypub import documents, selectors
from machi.activitypub.delivery import signer_for_current
from machi.activitypub.inbox import MAX_BODY, InboxRefused, inbox_receive
from machi.activitypub.remote import ACTIVITY_JSON, LD_JSON
from machi.activitypub.services import actor_ensure
from machi.tenancy.context import tenant_context
from machi.tenancy.selectors import municipality_get
from machi.web.decorators import public_view

logger = logging.getLogger("machi.activitypub.inbox")

JRD = "application/jrd+json"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_PROFILE = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"'
MAX_RESOURCE = 300


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _json(
    data: dict, *, content_type: str = ACTIVITY_JSON, status: int = 200, max_age: int = 180
) -> JsonResponse:
    response = JsonResponse(
        data, status=status, content_type=content_type, json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _activity_response(request: HttpRequest, data: dict, *, html_url: str) -> HttpResponse:
    """ActivityStreams JSON for a client asking for it; a browser goes to the page."""
    accept = request.headers.get("Accept", "")
    wants_ld = "application/ld+json" in accept
    wants_as = ACTIVITY_JSON in accept
    if "text/html" in accept and not (wants_ld or wants_as):
        response: HttpResponse = HttpResponseRedirect(html_url)
    else:
        response = _json(data, content_type=LD_JSON if wants_ld and not wants_as else ACTIVITY_JSON)
    patch_vary_headers(response, ["Accept"])
    return response


def _municipality(lg_code: str):
    municipality = municipality_get(lg_code=lg_code)
    if municipality is None:
        raise Http404("no such municipality")
    return municipality


@public_view
def webfinger(request: HttpRequest) -> HttpResponse:
    resource = request.GET.get("resource", "").strip()
    if not resource or len(resource) > MAX_RESOURCE:
        return HttpResponseBadRequest("resource is required", content_type="text/plain")
    host = request.get_host().lower()  # Django has checked it against ALLOWED_HOSTS
    origin = _origin(request)
    if resource.startswith("acct:"):
        user, _, resource_host = resource[5:].lstrip("@").rpartition("@")
    else:  # the actor's URL, as some servers ask
        parts = urlsplit(resource)
        resource_host = parts.netloc
        user = parts.path.removeprefix("/ap/").removesuffix("/actor")
        if parts.path != f"/ap/{user}/actor":
            user = ""
    resource_host = resource_host.lower()
    if (
        not user
        or resource_host != host
        or not validate_host(resource_host.rsplit(":", 1)[0], settings.ALLOWED_HOSTS)
    ):
        raise Http404("no such resource")
    municipality = municipality_get(lg_code=user) if user.isdigit() and len(user) == 6 else None
    if municipality is None:
        raise Http404("no such resource")
    lg_code = municipality.lg_code
    actor = documents.actor_url(origin, lg_code)
    site = documents.site_url(origin, lg_code)
    return _json(
        {
            "subject": f"acct:{lg_code}@{host}",
            "aliases": [actor, site],
            "links": [
                {"rel": "self", "type": ACTIVITY_JSON, "href": actor},
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": site},
            ],
        },
        content_type=JRD,
    )


@public_view
def nodeinfo_index(request: HttpRequest) -> HttpResponse:
    href = _origin(request) + "/ap/nodeinfo/2.0"
    return _json(
        {"links": [{"rel": NODEINFO_SCHEMA, "href": href}]}, content_type="application/json"
    )


@lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("machi")
    except PackageNotFoundError:
        return "0"


@public_view
def nodeinfo(request: HttpRequest) -> HttpResponse:
    from machi.tenancy.models import Municipality

    actors = Municipality.objects.filter(is_active=True).count()
    return _json(
        {
            "version": "2.0",
            "software": {"name": "machi", "version": _version()},
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
            "openRegistrations": False,
            "usage": {"users": {"total": actors}},
            "metadata": {"nodeName": "machi"},
        },
        content_type=NODEINFO_PROFILE,
    )


@public_view
def actor(request: HttpRequest, lg_code: str) -> HttpResponse:
    municipality = _municipality(lg_code)
    origin = _origin(request)
    with tenant_context(lg_code):
        row = actor_ensure()
    data = documents.actor_document(origin, lg_code=lg_code, name=municipality.name, actor=row)
    return _activity_response(request, data, html_url=documents.site_url(origin, lg_code))


@lru_cache(maxsize=64)
def _icon_png(lg_code: str) -> bytes:
    """A plain emblem: the code on a colour of its own (municipal emblems are not ours
    to copy; a municipality's own icon can replace it behind a proxy)."""
    from PIL import Image, ImageDraw, ImageFont

    shade = hashlib.sha256(lg_code.encode()).digest()
    colour = (40 + shade[0] % 80, 70 + shade[1] % 80, 110 + shade[2] % 80)
    image = Image.new("RGB", (400, 400), colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=88)
    draw.text((200, 200), lg_code, fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@public_view
def icon(request: HttpRequest, lg_code: str) -> HttpResponse:
    _municipality(lg_code)
    response = HttpResponse(_icon_png(lg_code), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@public_view
def outbox(request: HttpRequest, lg_code: str) -> HttpResponse:
    _municipality(lg_code)
    origin = _origin(request)
    me = documents.outbox_url(origin, lg_code)
    page_text = request.GET.get("page")
    with tenant_context(lg_code):
        if page_text is None:
            data = {
                "@context": documents.AS_CONTEXT,
                "id": me,
                "type": "OrderedCollection",
                "totalItems": selectors.outbox_count(),
                "first": f"{me}?page=1",
            }
        else:
            if not page_text.isdigit() or not 1 <= int(page_text) <= 100_000:
                return HttpResponseBadRequest(
                    "page must be a number from 1", content_type="text/plain"
                )
            page = int(page_text)
            notes, more = selectors.outbox_page(page=page)
            data = {
                "@context": documents.AS_CONTEXT,
                "id": f"{me}?page={page}",
                "type": "OrderedCollectionPage",
                "partOf": me,
                "orderedItems": [
                    documents.create_activity(origin, lg_code=lg_code, note=note) for note in notes
                ],
            }
            if more:
                data["next"] = f"{me}?page={page + 1}"
            if page > 1:
                data["prev"] = f"{me}?page={page - 1}"
    return _activity_response(request, data, html_url=documents.site_url(origin, lg_code))


@public_view
def followers(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The count only: who follows a municipality is the followers' business."""
    _municipality(lg_code)
    origin = _origin(request)
    with tenant_context(lg_code):
        count = selectors.follower_count()
    data = {
        "@context": documents.AS_CONTEXT,
        "id": documents.followers_url(origin, lg_code),
        "type": "OrderedCollection",
        "totalItems": count,
    }
    return _activity_response(request, data, html_url=documents.site_url(origin, lg_code))


@public_view
def note(request: HttpRequest, lg_code: str, object_key: str) -> HttpResponse:
    _municipality(lg_code)
    origin = _origin(request)
    with tenant_context(lg_code):
        row = selectors.note_get(object_key=object_key)
    if row is None:
        raise Http404("no such note")
    if row.deleted_at is not None:
        # Gone, not unknown: a server that cached the Note drops it (Mastodon does).
        response = _json(
            {"@context": documents.AS_CONTEXT}
            | documents.tombstone(origin, lg_code=lg_code, note=row),
            status=410,
        )
        patch_vary_headers(response, ["Accept"])
        return response
    data = {"@context": documents.AS_CONTEXT} | documents.note_object(
        origin, lg_code=lg_code, note=row
    )
    return _activity_response(request, data, html_url=row.url)


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


@public_view
@csrf_exempt  # signed by the sending server: no browser session is involved
def inbox(request: HttpRequest, lg_code: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _municipality(lg_code)
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        logger.warning(
            "inbox %s: refused 413 (declared %s bytes) from %s",
            lg_code,
            declared,
            _client_ip(request),
        )
        return HttpResponse("payload too large", status=413, content_type="text/plain")
    body = request.read(MAX_BODY + 1)
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers.setdefault("host", request.get_host())
    with tenant_context(lg_code):
        try:
            done = inbox_receive(
                lg_code=lg_code,
                path=request.get_full_path(),
                headers=headers,
                body=body,
                signer=signer_for_current(),
            )
        except InboxRefused as refused:
            # The reason and where it came from; never the body (it may carry a person's
            # message or handle).
            logger.warning(
                "inbox %s: refused %s (%s) from %s, key host %s",
                lg_code,
                refused.status,
                refused.reason,
                _client_ip(request),
                _key_host(headers.get("signature", "")),
            )
            return HttpResponse(refused.reason, status=refused.status, content_type="text/plain")
    logger.info("inbox %s: %s", lg_code, done)
    return HttpResponse(status=202)


def _key_host(signature: str) -> str:
    start = signature.find('keyId="')
    if start < 0:
        return "-"
    value = signature[start + 7 : signature.find('"', start + 7)]
    try:
        return urlsplit(value).hostname or "-"
    except ValueError:
        return "-"
