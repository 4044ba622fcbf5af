"""Writes on requests: file, route, change status, answer, re-route, merge, hide.

Every write is one transaction on the tenant database with its audit entry and, where
another system may care, its outbox event (thin: ids and states, never the text or the
reporter). Actors are staff members or API clients; residents filing from the public
page have none.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from machi.audit.services import Terminal, audit_append
from machi.linkage.services import outbox_append
from machi.requests.mail import notify_followers_on_commit
from machi.requests.models import (
    Area,
    AttributeType,
    Category,
    CategoryAttribute,
    Channel,
    Request,
    RequestReporter,
    RequestUpdate,
    ResponseTemplate,
    Routing,
    RoutingRule,
    Status,
    UpdateKind,
)
from machi.requests.routing import area_for_address, area_for_point, geometry_parse
from machi.tenancy.context import current_lg_code, current_tenant_alias

CREATED = "jp.machi.request.created"
STATUS_CHANGED = "jp.machi.request.status_changed"
ANSWERED = "jp.machi.request.answered"

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
CODE_LENGTH = 10
MAX_DESCRIPTION = 4000
MAX_ANSWER = 4000


class RequestError(ValidationError):
    """A request operation was refused; the message says why (nothing was written)."""


def _atomic() -> Any:
    return transaction.atomic(using=current_tenant_alias())


def public_code_generate() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _actor_fields(actor: Any | None) -> tuple[int | None, str]:
    label = getattr(actor, "audit_actor_label", None)
    if label:
        return None, label
    return getattr(actor, "pk", None), getattr(actor, "username", "") or ""


# --- catalogue -----------------------------------------------------------------------


def area_create(
    *, name: str, kind: str, geometry: str = "", category: Category | None = None,
    actor: Any | None = None,
) -> Area:  # fmt: skip
    name = name.strip()
    if not name:
        raise RequestError("区域名を入力してください。")
    if kind not in ("chome", "polygon"):
        raise RequestError("区域の種類は chome か polygon です。")
    size = 0.0
    if geometry:
        size = geometry_parse(geometry).area
    elif kind == "polygon":
        raise RequestError("区域（GeoJSON）を指定してください。")
    with _atomic():
        area = Area.objects.create(
            name=name, kind=kind, geometry=geometry, size=size, category=category
        )
        audit_append(
            action="requests.area.created", actor=actor, object_type="request_area",
            object_id=str(area.pk), function="requests", detail={"kind": kind},
        )  # fmt: skip
    return area


def routing_rule_set(
    *, department: str, category: Category | None = None, area: Area | None = None,
    actor: Any | None = None,
) -> RoutingRule:  # fmt: skip
    """Category × area → department; replaces the rule of the same pair."""
    department = _department_check(department)[0]
    with _atomic():
        rule = RoutingRule.objects.filter(category=category, area=area).first()
        if rule is None:
            rule = RoutingRule.objects.create(category=category, area=area, department=department)
        else:
            rule.department = department
            rule.save(update_fields=["department"])
        audit_append(
            action="requests.rule.set", actor=actor, object_type="request_rule",
            object_id=str(rule.pk), function="requests",
            detail={"category": getattr(category, "code", None),
                    "area": getattr(area, "pk", None), "department": department},
        )  # fmt: skip
    return rule


def category_department_set(
    *, category: Category, department: str, actor: Any | None = None
) -> Category:
    """The category's own department (where no routing rule applies)."""
    code = _department_check(department)[0]
    with _atomic():
        previous = category.department
        category.department = code
        category.save(update_fields=["department"])
        audit_append(
            action="requests.category.department_set", actor=actor, object_type="request_category",
            object_id=category.code, function="requests",
            detail={"from": previous, "to": code},
        )  # fmt: skip
    return category


# --- routing -------------------------------------------------------------------------


def _department_names() -> dict[str, str]:
    from machi.accounts.models import Department

    return dict(
        Department.objects.filter(municipality__lg_code=current_lg_code()).values_list(
            "code", "name"
        )
    )


def _department_check(code: str) -> tuple[str, str]:
    names = _department_names()
    if code not in names:
        raise RequestError(f"担当課 {code} はこの自治体にありません。")
    return code, names[code]


@dataclass(frozen=True)
class Route:
    area_id: int | None
    department: str  # "" = the triage queue
    department_name: str
    routing: str


def route(*, category: Category, lat: Decimal | None, long: Decimal | None, address: str) -> Route:
    """Where a request goes: area by point (else by address), then the most specific rule,
    then the category's department, then triage. A department the municipality does not
    have (any more) is no owner: triage, never nowhere."""
    if lat is not None and long is not None:
        area_id = area_for_point(lat=lat, long=long, category_id=category.pk)
    else:
        area_id = area_for_address(address=address, category_id=category.pk) if address else None
    names = _department_names()
    rules = {
        (r.category_id, r.area_id): r.department
        for r in RoutingRule.objects.filter(
            Q(category=category) | Q(category__isnull=True),
            Q(area_id=area_id) | Q(area__isnull=True),
        )
    }
    keys = [(category.pk, area_id), (None, area_id)] if area_id else []
    keys.append((category.pk, None))
    candidates = [(rules[k], Routing.RULE) for k in keys if k in rules]
    if category.department:
        candidates.append((category.department, Routing.CATEGORY))
    for code, how in candidates:
        if code in names:
            return Route(area_id, code, names[code], how)
    return Route(area_id, "", "", Routing.TRIAGE)


# --- filing --------------------------------------------------------------------------


def _clean_attributes(category: Category, values: dict[str, Any]) -> dict[str, Any]:
    definitions = {a.code: a for a in category.attributes.all()}
    unknown = sorted(set(values) - set(definitions))
    if unknown:
        raise RequestError(f"この分類にない項目です: {', '.join(unknown)}")
    cleaned: dict[str, Any] = {}
    for code, attribute in definitions.items():
        value = values.get(code)
        empty = value in (None, "", []) or (isinstance(value, list) and not any(value))
        if empty:
            if attribute.required:
                raise RequestError(f"「{attribute.description}」（{code}）は必須です。")
            continue
        keys = {v["key"] for v in attribute.values}
        kind = attribute.datatype
        if kind == AttributeType.MULTIPLE:
            items = value if isinstance(value, list) else [value]
            bad = [str(v) for v in items if str(v) not in keys]
            if bad:
                raise RequestError(
                    f"「{attribute.description}」の選択肢にない値です: {', '.join(bad)}"
                )
            cleaned[code] = [str(v) for v in items]
            continue
        if isinstance(value, list):
            if len(value) != 1:
                raise RequestError(f"「{attribute.description}」には値を1つだけ指定してください。")
            value = value[0]
        value = str(value).strip()
        if kind == AttributeType.SINGLE and value not in keys:
            raise RequestError(f"「{attribute.description}」の選択肢にない値です: {value}")
        if kind == AttributeType.NUMBER:
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                raise RequestError(f"「{attribute.description}」は数値で入力してください。")
        if kind == AttributeType.DATE:
            try:
                datetime.date.fromisoformat(value)
            except ValueError as exc:
                raise RequestError(
                    f"「{attribute.description}」は日付（YYYY-MM-DD）で入力してください。"
                ) from exc
        limit = 2000 if kind == AttributeType.TEXT else 200
        if len(value) > limit:
            raise RequestError(f"「{attribute.description}」は{limit}文字以内で入力してください。")
        cleaned[code] = value
    return cleaned


def _clean_point(lat: Any, long: Any) -> tuple[Decimal | None, Decimal | None]:
    if lat in (None, "") and long in (None, ""):
        return None, None
    try:
        lat_d, long_d = Decimal(str(lat)), Decimal(str(long))
    except InvalidOperation as exc:
        raise RequestError("緯度・経度は数値で指定してください。") from exc
    if not (lat_d.is_finite() and long_d.is_finite()):
        raise RequestError("緯度・経度は数値で指定してください。")
    if not (-90 <= lat_d <= 90 and -180 <= long_d <= 180):
        raise RequestError("緯度は -90〜90、経度は -180〜180 の範囲で指定してください。")
    return lat_d.quantize(Decimal("0.000001")), long_d.quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class Reporter:
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""


@dataclass(frozen=True)
class Filed:
    request: Request
    confirm_secret: str  # goes out in the confirmation mail only; "" without a mail address


def request_create(
    *,
    category: Category,
    description: str = "",
    lat: Any = None,
    long: Any = None,
    address: str = "",
    attributes: dict[str, Any] | None = None,
    media_url: str = "",
    reporter: Reporter | None = None,
    channel: str = Channel.WEB,
    actor: Any | None = None,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Filed:
    """File a request: validate, route (an owner or triage), record, audit, emit."""
    if not category.is_active:
        raise RequestError(f"分類「{category.name}」は受付を終了しています。")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise RequestError(f"内容は{MAX_DESCRIPTION}文字以内で入力してください。")
    lat_d, long_d = _clean_point(lat, long)
    address = (address or "").strip()
    if len(address) > 200:
        raise RequestError("場所（住所）は200文字以内で入力してください。")
    if lat_d is None and not address:
        raise RequestError("場所（地図上の位置か住所）を指定してください。")
    values = _clean_attributes(category, attributes or {})
    if not description and not values:
        raise RequestError("内容を入力してください。")
    if media_url:
        try:
            URLValidator(schemes=["https", "http"])(media_url)
        except ValidationError as exc:
            raise RequestError("画像の URL が正しくありません。") from exc
    reporter = reporter or Reporter()
    email = reporter.email.strip()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError as exc:
            raise RequestError("メールアドレスが正しくありません。") from exc
    where = route(category=category, lat=lat_d, long=long_d, address=address)
    now = now or timezone.now()
    secret = secrets.token_urlsafe(24) if email else ""
    staff_id, username = _actor_fields(actor)
    with _atomic():
        while True:
            code = public_code_generate()
            if not Request.objects.filter(public_code=code).exists():
                break
        request = Request.objects.create(
            public_code=code, category=category, description=description,
            attribute_values=values, lat=lat_d, long=long_d, address=address,
            media_url=media_url, area_id=where.area_id, department=where.department,
            department_name=where.department_name, routing=where.routing,
            is_public=category.public_by_default, channel=channel,
            api_client_id=actor.pk if getattr(actor, "audit_actor_label", None) else None,
            requested_at=now, updated_at=now,
            expected_at=now + datetime.timedelta(days=category.expected_response_days),
        )  # fmt: skip
        RequestReporter.objects.create(
            request=request, email=email,
            confirm_token_hash=hashlib.sha256(secret.encode()).hexdigest() if secret else "",
            first_name=reporter.first_name.strip()[:100],
            last_name=reporter.last_name.strip()[:100], phone=reporter.phone.strip()[:30],
            device_id=reporter.device_id.strip()[:100],
            account_id=reporter.account_id.strip()[:100],
        )  # fmt: skip
        RequestUpdate.objects.create(
            request=request, kind=UpdateKind.CREATED, status=Status.OPEN,
            department=where.department, staff_id=staff_id, staff_username=username,
            created_at=now,
        )  # fmt: skip
        audit_append(
            action="requests.request.created", actor=actor, object_type="request",
            object_id=request.service_request_id, function=f"requests:{channel}",
            terminal=terminal,
            detail={"category": category.code, "routing": where.routing,
                    "department": where.department, "area": where.area_id},
        )  # fmt: skip
        outbox_append(
            type=CREATED,
            subject=request.service_request_id,
            data={
                "service_request_id": request.service_request_id,
                "public_code": request.public_code,
                "service_code": category.code,
                "department": where.department,
                "routing": where.routing,
                "status": Status.OPEN,
            },
            time=now,
        )
    return Filed(request=request, confirm_secret=secret)


def request_reporter_confirm(*, request: Request, secret: str) -> bool:
    """The reporter followed the link in the confirmation mail; False if it is not theirs."""
    reporter = request.reporter
    digest = hashlib.sha256((secret or "").encode()).hexdigest()
    if not reporter.confirm_token_hash or not secrets.compare_digest(
        digest, reporter.confirm_token_hash
    ):
        return False
    if reporter.email_confirmed_at is None:
        reporter.email_confirmed_at = timezone.now()
        reporter.save(update_fields=["email_confirmed_at"])
    return True


# --- staff work ------------------------------------------------------------------------


def _may_work(actor: Any, request: Request) -> None:
    """Staff of the request's department (department staff or supervisor); the triage
    queue belongs to supervisors; API clients need requests:write. Else refused."""
    if getattr(actor, "audit_actor_label", None):
        if not actor.has_scope("requests:write"):
            raise RequestError("この操作には権限 requests:write が必要です。")
        return
    memberships = getattr(actor, "memberships", None)
    if memberships is None or getattr(actor, "municipality", None) is None:
        raise RequestError("この要望を扱う権限がありません。")
    if actor.municipality.lg_code != current_lg_code():
        raise RequestError("別の自治体の要望です。")
    roles = {(m.department.code, m.role) for m in memberships.select_related("department")}
    if request.department == "":
        if any(role == "supervisor" for _, role in roles):
            return
    elif any(
        code == request.department and role in ("department_staff", "supervisor")
        for code, role in roles
    ):
        return
    raise RequestError("この要望を扱う権限がありません（担当課の職員ではありません）。")


def _locked(request: Request) -> Request:
    return Request.objects.select_for_update().get(pk=request.pk)


def _status_change(
    request: Request, *, status: str, actor: Any, text: str, kind: str, now: datetime.datetime
) -> RequestUpdate:
    previous = request.status
    staff_id, username = _actor_fields(actor)
    request.status = status
    request.updated_at = now
    request.save(update_fields=["status", "updated_at", "duplicate_of"])
    update = RequestUpdate.objects.create(
        request=request, kind=kind, status=status, previous_status=previous, text=text,
        is_public=True, department=request.department, staff_id=staff_id,
        staff_username=username, created_at=now,
    )  # fmt: skip
    outbox_append(
        type=STATUS_CHANGED,
        subject=request.service_request_id,
        data={"service_request_id": request.service_request_id, "from": previous, "to": status,
              "update_id": update.pk},
        time=now,
    )  # fmt: skip
    return update


def request_status_change(
    *, request: Request, status: str, actor: Any, text: str = "",
    terminal: Terminal | None = None, now: datetime.datetime | None = None,
) -> RequestUpdate:  # fmt: skip
    """Change the status; the change (and ``text``, its public note) shows in the history."""
    if status not in Status.values:
        raise RequestError(f"不明な状態です: {status}")
    if status == Status.DUPLICATE:
        raise RequestError("重複は「重複の統合」で記録してください（元の要望を指定します）。")
    text = (text or "").strip()
    if len(text) > MAX_ANSWER:
        raise RequestError(f"本文は{MAX_ANSWER}文字以内で入力してください。")
    now = now or timezone.now()
    with _atomic():
        request = _locked(request)
        _may_work(actor, request)
        if request.status == status:
            raise RequestError("状態が変わっていません。")
        update = _status_change(
            request, status=status, actor=actor, text=text, kind=UpdateKind.STATUS, now=now
        )
        audit_append(
            action="requests.request.status_changed", actor=actor, object_type="request",
            object_id=request.service_request_id, function="requests", terminal=terminal,
            detail={"from": update.previous_status, "to": status},
        )  # fmt: skip
        notify_followers_on_commit(update)
    return update


def request_answer(
    *, request: Request, text: str, public: bool, actor: Any,
    terminal: Terminal | None = None, now: datetime.datetime | None = None,
) -> RequestUpdate:  # fmt: skip
    """A public answer (on the public page and Open311) or an internal note (staff only)."""
    text = (text or "").strip()
    if not text:
        raise RequestError("回答を入力してください。")
    if len(text) > MAX_ANSWER:
        raise RequestError(f"回答は{MAX_ANSWER}文字以内で入力してください。")
    now = now or timezone.now()
    staff_id, username = _actor_fields(actor)
    with _atomic():
        request = _locked(request)
        _may_work(actor, request)
        update = RequestUpdate.objects.create(
            request=request, kind=UpdateKind.ANSWER, status=request.status, text=text,
            is_public=public, department=request.department, staff_id=staff_id,
            staff_username=username, created_at=now,
        )  # fmt: skip
        request.updated_at = now
        request.save(update_fields=["updated_at"])
        audit_append(
            action="requests.request.answered", actor=actor, object_type="request",
            object_id=request.service_request_id, function="requests", terminal=terminal,
            detail={"public": public, "update_id": update.pk},
        )  # fmt: skip
        outbox_append(
            type=ANSWERED,
            subject=request.service_request_id,
            data={"service_request_id": request.service_request_id, "update_id": update.pk,
                  "public": public},
            time=now,
        )  # fmt: skip
        notify_followers_on_commit(update)
    return update


def request_reroute(
    *, request: Request, department: str, reason: str, actor: Any,
    terminal: Terminal | None = None, now: datetime.datetime | None = None,
) -> RequestUpdate:  # fmt: skip
    """Send the request to another department (from the triage queue too), with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise RequestError("振り替えの理由を入力してください。")
    code, name = _department_check(department)
    now = now or timezone.now()
    staff_id, username = _actor_fields(actor)
    with _atomic():
        request = _locked(request)
        _may_work(actor, request)
        if request.department == code:
            raise RequestError("既にその担当課の要望です。")
        previous = request.department
        request.department, request.department_name = code, name
        request.routing = Routing.MANUAL
        request.updated_at = now
        request.save(update_fields=["department", "department_name", "routing", "updated_at"])
        update = RequestUpdate.objects.create(
            request=request, kind=UpdateKind.REROUTE, status=request.status, text=reason,
            is_public=False, department=code, previous_department=previous,
            staff_id=staff_id, staff_username=username, created_at=now,
        )  # fmt: skip
        audit_append(
            action="requests.request.rerouted", actor=actor, object_type="request",
            object_id=request.service_request_id, function="requests", terminal=terminal,
            detail={"from": previous, "to": code, "reason": reason},
        )  # fmt: skip
    return update


def request_merge_duplicate(
    *, request: Request, original: Request, actor: Any, text: str = "",
    terminal: Terminal | None = None, now: datetime.datetime | None = None,
) -> RequestUpdate:  # fmt: skip
    """Mark ``request`` a duplicate of ``original``: closed, linked both ways
    (``request.duplicate_of`` and ``original.duplicates``)."""
    if request.pk == original.pk:
        raise RequestError("同じ要望を重複として統合することはできません。")
    now = now or timezone.now()
    with _atomic():
        request = _locked(request)
        original = _locked(original)
        _may_work(actor, request)
        if request.status == Status.DUPLICATE:
            raise RequestError("既に重複として統合されています。")
        if original.duplicate_of_id is not None:
            raise RequestError("統合先の要望も重複です。元の要望を指定してください。")
        request.duplicate_of = original
        update = _status_change(
            request, status=Status.DUPLICATE, actor=actor,
            text=(text or "").strip() or f"受付番号 {original.public_code} と同じ内容です。",
            kind=UpdateKind.MERGE, now=now,
        )  # fmt: skip
        # Later duplicates of this one follow it to the original (one level deep).
        Request.objects.filter(duplicate_of=request).update(duplicate_of=original)
        audit_append(
            action="requests.request.merged", actor=actor, object_type="request",
            object_id=request.service_request_id, function="requests", terminal=terminal,
            detail={"original": original.service_request_id},
        )  # fmt: skip
    return update


def request_hide(
    *, request: Request, reason: str, actor: Any, terminal: Terminal | None = None
) -> Request:
    """Take a request off the public page and Open311 (moderation), with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise RequestError("非公開にする理由を入力してください。")
    now = timezone.now()
    with _atomic():
        request = _locked(request)
        _may_work(actor, request)
        request.hidden_at = now
        request.hidden_reason = reason[:200]
        request.hidden_by_username = _actor_fields(actor)[1]
        request.save(update_fields=["hidden_at", "hidden_reason", "hidden_by_username"])
        staff_id, username = _actor_fields(actor)
        RequestUpdate.objects.create(
            request=request, kind=UpdateKind.HIDDEN, status=request.status, text=reason,
            is_public=False, department=request.department, staff_id=staff_id,
            staff_username=username, created_at=now,
        )  # fmt: skip
        audit_append(
            action="requests.request.hidden", actor=actor, object_type="request",
            object_id=request.service_request_id, function="requests", terminal=terminal,
            detail={"reason": reason[:200]},
        )  # fmt: skip
    return request


# --- administration --------------------------------------------------------------------


def _may_administer(actor: Any) -> None:
    """Municipality administrators of the municipality in force."""
    municipality = getattr(actor, "municipality", None)
    if municipality is None or municipality.lg_code != current_lg_code():
        raise RequestError("この自治体の管理者ではありません。")
    if not actor.has_role("municipality_admin"):
        raise RequestError("分類と区域の設定は自治体管理者が行います。")


def _may_manage_templates(actor: Any) -> None:
    municipality = getattr(actor, "municipality", None)
    if municipality is None or municipality.lg_code != current_lg_code():
        raise RequestError("この自治体の職員ではありません。")
    if not actor.has_role("supervisor", "municipality_admin"):
        raise RequestError("定型文は監督者か自治体管理者が管理します。")


_CODE_RE = r"^[a-z0-9][a-z0-9_-]*$"


def _clean_code(code: str, label: str) -> str:
    import re

    code = (code or "").strip()
    if not code:
        raise RequestError(f"{label}を入力してください。")
    if len(code) > 40 or not re.match(_CODE_RE, code):
        raise RequestError(
            f"{label}は半角英小文字・数字・-・_ の40文字以内で入力してください: {code}"
        )
    return code


def _clean_text(value: str, label: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise RequestError(f"{label}を入力してください。")
    if len(value) > limit:
        raise RequestError(f"{label}は{limit}文字以内で入力してください。")
    return value


def _clean_int(value: Any, label: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise RequestError(f"{label}は整数で入力してください。") from exc
    if not low <= number <= high:
        raise RequestError(f"{label}は{low}〜{high}で入力してください。")
    return number


def category_save(
    *, actor: Any, code: str, name: str, description: str = "", department: str = "",
    public_by_default: bool = True, expected_response_days: Any = 14, is_active: bool = True,
    order: Any = 0, category: Category | None = None, terminal: Terminal | None = None,
) -> Category:  # fmt: skip
    """Create a category (``category`` None) or edit one. The code is the Open311
    service_code that clients keep: it cannot change once requests use it."""
    _may_administer(actor)
    code = _clean_code(code, "分類コード")
    name = _clean_text(name, "分類名", 100, required=True)
    description = _clean_text(description, "説明", 2000)
    department = (department or "").strip()
    if department:
        _department_check(department)
    days = _clean_int(expected_response_days, "回答の目安（日）", 1, 365)
    order_n = _clean_int(order, "表示順", 0, 999)
    with _atomic():
        clash = Category.objects.filter(code=code)
        if category is not None:
            clash = clash.exclude(pk=category.pk)
        if clash.exists():
            raise RequestError(f"分類コード {code} は既に使われています。")
        if category is None:
            category = Category(code=code)
            action, before = "requests.category.created", {}
        else:
            category = Category.objects.select_for_update().get(pk=category.pk)
            if category.code != code and category.requests.exists():
                raise RequestError(
                    "要望のある分類のコードは変えられません（Open311 の service_code です）。"
                )
            action = "requests.category.changed"
            before = {
                "department": category.department, "is_active": category.is_active,
                "public_by_default": category.public_by_default,
                "expected_response_days": category.expected_response_days,
            }  # fmt: skip
        category.code, category.name, category.description = code, name, description
        category.department, category.public_by_default = department, bool(public_by_default)
        category.expected_response_days, category.is_active = days, bool(is_active)
        category.order = order_n
        category.save()
        audit_append(
            action=action, actor=actor, object_type="request_category", object_id=code,
            function="requests:admin", terminal=terminal,
            detail={"before": before, "department": department, "is_active": bool(is_active),
                    "public_by_default": bool(public_by_default),
                    "expected_response_days": days},
        )  # fmt: skip
    return category


def _clean_values(datatype: str, values: Any) -> list[dict[str, str]]:
    """Choices for the list types: a list of {"key", "name"}, or text lines ``key:name``."""
    lists = (AttributeType.SINGLE, AttributeType.MULTIPLE)
    if isinstance(values, str):
        rows = []
        for number, line in enumerate(values.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            key, sep, name = line.partition(":")
            if not sep:
                key, sep, name = line.partition("：")
            if not sep or not key.strip() or not name.strip():
                raise RequestError(f"選択肢の{number}行目は「キー:表示名」で書いてください: {line}")
            rows.append({"key": key.strip(), "name": name.strip()})
        values = rows
    values = list(values or [])
    if datatype not in lists:
        if values:
            raise RequestError("選択肢は「選択（1つ）」「選択（複数）」の項目にだけ指定できます。")
        return []
    if not values:
        raise RequestError("選択の項目には選択肢を1つ以上指定してください。")
    keys = [v["key"] for v in values]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise RequestError(f"選択肢のキーが重複しています: {', '.join(duplicated)}")
    for value in values:
        if len(value["key"]) > 40 or len(value["name"]) > 100:
            raise RequestError(
                f"選択肢が長すぎます（キー40文字・表示名100文字まで）: {value['key']}"
            )
    return [{"key": v["key"], "name": v["name"]} for v in values]


def category_attribute_save(
    *, actor: Any, category: Category, code: str, description: str, datatype: str,
    required: bool = False, values: Any = (), order: Any = 0,
    attribute: CategoryAttribute | None = None, terminal: Terminal | None = None,
) -> CategoryAttribute:  # fmt: skip
    """Add (``attribute`` None) or edit an extra question of a category (Open311 attribute)."""
    _may_administer(actor)
    code = _clean_code(code, "項目コード")
    description = _clean_text(description, "質問", 200, required=True)
    if datatype not in AttributeType.values:
        raise RequestError(f"不明な項目の種類です: {datatype}")
    cleaned = _clean_values(datatype, values)
    order_n = _clean_int(order, "表示順", 0, 999)
    if attribute is not None and attribute.category_id != category.pk:
        raise RequestError("この分類の項目ではありません。")
    with _atomic():
        clash = CategoryAttribute.objects.filter(category=category, code=code)
        if attribute is not None:
            clash = clash.exclude(pk=attribute.pk)
        if clash.exists():
            raise RequestError(f"項目コード {code} はこの分類で既に使われています。")
        action = "requests.attribute.created" if attribute is None else "requests.attribute.changed"
        attribute = attribute or CategoryAttribute(category=category)
        attribute.code, attribute.description, attribute.datatype = code, description, datatype
        attribute.required, attribute.values, attribute.order = bool(required), cleaned, order_n
        attribute.save()
        audit_append(
            action=action, actor=actor, object_type="request_category",
            object_id=category.code, function="requests:admin", terminal=terminal,
            detail={"attribute": code, "datatype": datatype, "required": bool(required),
                    "values": [v["key"] for v in cleaned]},
        )  # fmt: skip
    return attribute


def category_attribute_delete(
    *, actor: Any, attribute: CategoryAttribute, terminal: Terminal | None = None
) -> None:
    """Remove an extra question; answers already given stay on their requests."""
    _may_administer(actor)
    with _atomic():
        category_code, code = attribute.category.code, attribute.code
        attribute.delete()
        audit_append(
            action="requests.attribute.deleted", actor=actor, object_type="request_category",
            object_id=category_code, function="requests:admin", terminal=terminal,
            detail={"attribute": code},
        )  # fmt: skip


MAX_GEOJSON_BYTES = 5 * 1024 * 1024


def areas_import_geojson(
    *, actor: Any, data: bytes, kind: str = "polygon", name_property: str = "name",
    category: Category | None = None, terminal: Terminal | None = None,
) -> list[Area]:  # fmt: skip
    """Every Polygon/MultiPolygon Feature of a GeoJSON FeatureCollection becomes an area
    (through area_create), all or none; a refusal names the feature and the reason."""
    import json

    _may_administer(actor)
    if len(data) > MAX_GEOJSON_BYTES:
        raise RequestError("GeoJSON は5MB以内にしてください。")
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError(f"GeoJSON として読めません（{exc.__class__.__name__}）。") from exc
    if not isinstance(parsed, dict) or parsed.get("type") != "FeatureCollection":
        raise RequestError("GeoJSON の FeatureCollection を指定してください。")
    features = parsed.get("features")
    if not isinstance(features, list) or not features:
        raise RequestError("FeatureCollection に地物（features）がありません。")
    areas = []
    with _atomic():
        for number, feature in enumerate(features, start=1):
            properties = (feature.get("properties") if isinstance(feature, dict) else None) or {}
            name = str(properties.get(name_property) or "").strip()
            label = f"{number} 番目の地物" + (f"「{name}」" if name else "")
            if not name:
                raise RequestError(
                    f"{label}: 名前（properties.{name_property}）がありません。"
                    "何も登録していません。"
                )
            geometry = json.dumps(feature.get("geometry"), ensure_ascii=False)
            try:
                area = area_create(
                    name=name, kind=kind, category=category, actor=actor, geometry=geometry
                )
            except ValidationError as exc:
                raise RequestError(
                    f"{label}: {' '.join(exc.messages)} 何も登録していません。"
                ) from exc
            areas.append(area)
        audit_append(
            action="requests.areas.imported", actor=actor, object_type="request_area",
            object_id=str(len(areas)), function="requests:admin", terminal=terminal,
            detail={"count": len(areas), "kind": kind},
        )  # fmt: skip
    return areas


def response_template_save(
    *, actor: Any, title: str, body: str, category: Category | None = None,
    template: ResponseTemplate | None = None, terminal: Terminal | None = None,
) -> ResponseTemplate:  # fmt: skip
    _may_manage_templates(actor)
    title = _clean_text(title, "件名", 100, required=True)
    body = _clean_text(body, "本文", MAX_ANSWER, required=True)
    with _atomic():
        action = "requests.template.created" if template is None else "requests.template.changed"
        template = template or ResponseTemplate()
        template.title, template.body, template.category = title, body, category
        template.updated_at = timezone.now()
        template.save()
        audit_append(
            action=action, actor=actor, object_type="request_template",
            object_id=str(template.pk), function="requests:templates", terminal=terminal,
            detail={"category": getattr(category, "code", None)},
        )  # fmt: skip
    return template


def response_template_delete(
    *, actor: Any, template: ResponseTemplate, terminal: Terminal | None = None
) -> None:
    _may_manage_templates(actor)
    with _atomic():
        pk = template.pk
        template.delete()
        audit_append(
            action="requests.template.deleted", actor=actor, object_type="request_template",
            object_id=str(pk), function="requests:templates", terminal=terminal,
        )  # fmt: skip
