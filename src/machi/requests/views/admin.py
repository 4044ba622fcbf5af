"""Administration of requests for municipality administrators: categories with their
extra questions, areas (GeoJSON upload) and routing rules (category × area → department).
Every write goes through a service that checks the role again and audits it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.requests import services
from machi.requests.forms_staff import AreaUploadForm, AttributeForm, CategoryForm, RuleForm
from machi.requests.models import Area, Category, CategoryAttribute, RoutingRule
from machi.web.decorators import roles_required

ADMIN = Role.MUNICIPALITY_ADMIN


def _departments(request: HttpRequest) -> list[tuple[str, str]]:
    from machi.accounts.models import Department

    return list(
        Department.objects.filter(municipality=request.user.municipality)
        .order_by("id")
        .values_list("code", "name")
    )


def _category_or_404(pk: int) -> Category:
    category = Category.objects.filter(pk=pk).prefetch_related("attributes").first()
    if category is None:
        raise Http404(_("分類が見つかりません。"))
    return category


def _refused(form: Any, refusal: services.RequestError) -> None:
    form.add_error(None, " ".join(refusal.messages))


@require_http_methods(["GET", "POST"])
@never_cache
@roles_required(ADMIN)
def categories(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The categories, and a form for a new one."""
    departments = _departments(request)
    form = CategoryForm(
        departments=departments,
        initial={"public_by_default": True, "is_active": True, "expected_response_days": 14},
    )
    status = 200
    if request.method == "POST":
        form = CategoryForm(request.POST, departments=departments)
        if form.is_valid():
            try:
                category = services.category_save(
                    actor=request.user, terminal=Terminal.from_request(request),
                    **form.cleaned_data,
                )  # fmt: skip
            except services.RequestError as refusal:
                _refused(form, refusal)
            else:
                messages.success(request, _("分類「%(name)s」を追加しました。") % form.cleaned_data)
                return redirect(reverse("requests:admin_category", args=[lg_code, category.pk]))
        status = 400
    names = dict(departments)
    rows = [
        {"category": c, "department_name": names.get(c.department, "")}
        for c in Category.objects.all()
    ]
    return render(
        request, "requests/staff/categories.html", {"rows": rows, "form": form}, status=status
    )


@require_http_methods(["GET", "POST"])
@never_cache
@roles_required(ADMIN)
def category(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    """One category: its settings, its extra questions, and a form for a new question."""
    found = _category_or_404(pk)
    departments = _departments(request)
    form = CategoryForm(
        departments=departments,
        initial={
            f: getattr(found, f)
            for f in ("code", "name", "description", "department", "public_by_default",
                      "expected_response_days", "is_active", "order")
        },
    )  # fmt: skip
    attribute_form = AttributeForm(prefix="attr")
    status = 200
    if request.method == "POST":
        form = CategoryForm(request.POST, departments=departments)
        if form.is_valid():
            try:
                services.category_save(
                    actor=request.user, category=found, terminal=Terminal.from_request(request),
                    **form.cleaned_data,
                )  # fmt: skip
            except services.RequestError as refusal:
                _refused(form, refusal)
            else:
                messages.success(request, _("分類「%(name)s」を保存しました。") % form.cleaned_data)
                return redirect(reverse("requests:admin_category", args=[lg_code, pk]))
        status = 400
    attributes = [
        {
            "attribute": a,
            "form": AttributeForm(
                prefix=f"attr{a.pk}",
                initial={
                    "code": a.code,
                    "description": a.description,
                    "datatype": a.datatype,
                    "required": a.required,
                    "order": a.order,
                    "values": "\n".join(f"{v['key']}:{v['name']}" for v in a.values),
                },
            ),
        }
        for a in found.attributes.all()
    ]
    context = {"category": found, "form": form, "attributes": attributes,
               "attribute_form": attribute_form}  # fmt: skip
    return render(request, "requests/staff/category.html", context, status=status)


@require_POST
@roles_required(ADMIN)
def attribute_save(
    request: HttpRequest, lg_code: str, pk: int, attribute_pk: int | None = None
) -> HttpResponse:
    """Add (no ``attribute_pk``) or edit an extra question; refusals come back as messages."""
    found = _category_or_404(pk)
    attribute = None
    prefix = "attr"
    if attribute_pk is not None:
        attribute = CategoryAttribute.objects.filter(pk=attribute_pk, category=found).first()
        if attribute is None:
            raise Http404(_("項目が見つかりません。"))
        prefix = f"attr{attribute.pk}"
    form = AttributeForm(request.POST, prefix=prefix)
    if not form.is_valid():
        problems = [f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()]
        messages.error(request, " ".join(problems))
    else:
        try:
            saved = services.category_attribute_save(
                actor=request.user, category=found, attribute=attribute,
                terminal=Terminal.from_request(request), **form.cleaned_data,
            )  # fmt: skip
        except services.RequestError as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            messages.success(request, _("項目「%(code)s」を保存しました。") % {"code": saved.code})
    return redirect(reverse("requests:admin_category", args=[lg_code, pk]))


@require_POST
@roles_required(ADMIN)
def attribute_delete(
    request: HttpRequest, lg_code: str, pk: int, attribute_pk: int
) -> HttpResponse:
    found = _category_or_404(pk)
    attribute = CategoryAttribute.objects.filter(pk=attribute_pk, category=found).first()
    if attribute is None:
        raise Http404(_("項目が見つかりません。"))
    try:
        services.category_attribute_delete(
            actor=request.user, attribute=attribute, terminal=Terminal.from_request(request)
        )
    except services.RequestError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, _("項目「%(code)s」を削除しました。") % {"code": attribute.code})
    return redirect(reverse("requests:admin_category", args=[lg_code, pk]))


# --- areas and routing ------------------------------------------------------------------


def _rule_form(request: HttpRequest, data: Any = None) -> RuleForm:
    return RuleForm(
        data,
        categories=[(str(pk), n) for pk, n in Category.objects.values_list("pk", "name")],
        areas=[(str(pk), n) for pk, n in Area.objects.values_list("pk", "name")],
        departments=_departments(request),
    )


def _areas_page(request: HttpRequest, *, upload: Any = None, rule: Any = None, status: int = 200):
    names = dict(_departments(request))
    rules = [
        {"rule": r, "department_name": names.get(r.department, r.department)}
        for r in RoutingRule.objects.select_related("category", "area").order_by(
            "category__order", "area__name", "id"
        )
    ]
    context = {
        "areas": list(Area.objects.select_related("category")),
        "rules": rules,
        "upload_form": upload or AreaUploadForm(initial={"kind": "chome", "name_property": "name"}),
        "rule_form": rule or _rule_form(request),
    }
    return render(request, "requests/staff/areas.html", context, status=status)


@require_http_methods(["GET"])
@never_cache
@roles_required(ADMIN)
def areas(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _areas_page(request)


@require_POST
@never_cache
@roles_required(ADMIN)
def areas_upload(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = AreaUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.MAX_GEOJSON_BYTES:
            form.add_error("file", _("GeoJSON は5MB以内にしてください。"))
        else:
            try:
                created = services.areas_import_geojson(
                    actor=request.user, data=upload.read(), kind=form.cleaned_data["kind"],
                    name_property=form.cleaned_data["name_property"],
                    terminal=Terminal.from_request(request),
                )  # fmt: skip
            except services.RequestError as refusal:
                _refused(form, refusal)
            else:
                messages.success(
                    request, _("%(count)d 件の区域を登録しました。") % {"count": len(created)}
                )
                return redirect(reverse("requests:admin_areas", args=[lg_code]))
    return _areas_page(request, upload=form, status=400)


@require_POST
@never_cache
@roles_required(ADMIN)
def rule_set(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = _rule_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        category = (
            Category.objects.filter(pk=data["category"]).first() if data["category"] else None
        )
        area = Area.objects.filter(pk=data["area"]).first() if data["area"] else None
        try:
            services.routing_rule_set(
                department=data["department"], category=category, area=area, actor=request.user
            )
        except services.RequestError as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, _("振り分け規則を保存しました。"))
            return redirect(reverse("requests:admin_areas", args=[lg_code]))
    return _areas_page(request, rule=form, status=400)
