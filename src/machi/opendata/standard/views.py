"""Staff pages of the facility masters: the list, one facility's form, import and export
in the standard's layout. Who: the catalogue's editors (ウェブ作成者, ウェブ承認者,
自治体管理者). A facility is named by its ID in the query (``?id=``); one that is not in
this municipality's database is 404."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.opendata.services import EDIT_ROLES
from machi.opendata.standard.forms import ImportForm, master_form
from machi.opendata.standard.masters import MASTERS, ImportRefused, master_export, master_import
from machi.tenancy.context import current_tenant_alias
from machi.web.decorators import roles_required


def _master(dataset: str):
    if dataset not in MASTERS:
        raise Http404
    return MASTERS[dataset]


@roles_required(*EDIT_ROLES)
@require_GET
@never_cache
def standard_home(request: HttpRequest, lg_code: str) -> HttpResponse:
    masters = [(key, master, master.model.objects.count()) for key, master in MASTERS.items()]
    return render(request, "standarddata/home.html", {"masters": masters})


@roles_required(*EDIT_ROLES)
@require_GET
@never_cache
def master_list(request: HttpRequest, lg_code: str, dataset: str) -> HttpResponse:
    master = _master(dataset)
    items = master.model.objects.order_by("standard_id")[:500]
    return render(
        request, "standarddata/list.html",
        {"dataset": dataset, "master": master, "items": items, "form": ImportForm()},
    )  # fmt: skip


@roles_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def master_edit(request: HttpRequest, lg_code: str, dataset: str) -> HttpResponse:
    master = _master(dataset)
    standard_id = request.GET.get("id", "")
    item = None
    if standard_id:
        item = master.model.objects.filter(standard_id=standard_id).first()
        if item is None:
            raise Http404(_("施設が見つかりません。"))
    form_class = master_form(dataset)
    form = form_class(request.POST or None, instance=item)
    if request.method == "POST" and "delete" in request.POST and item is not None:
        item.delete()
        messages.success(request, _("削除しました。"))
        return redirect(f"standarddata:{dataset}", lg_code=lg_code)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(using=current_tenant_alias()):
            form.save()
        messages.success(request, _("保存しました。"))
        return redirect(f"standarddata:{dataset}", lg_code=lg_code)
    return render(
        request, "standarddata/edit.html",
        {"dataset": dataset, "master": master, "form": form, "item": item},
    )  # fmt: skip


@roles_required(*EDIT_ROLES)
@require_POST
def master_upload(request: HttpRequest, lg_code: str, dataset: str) -> HttpResponse:
    master = _master(dataset)
    form = ImportForm(request.POST, request.FILES)
    problems = []
    if form.is_valid():
        try:
            result = master_import(dataset=dataset, content=form.cleaned_data["file"].read())
        except ImportRefused as refused:
            problems = refused.problems
        else:
            messages.success(
                request,
                _("取り込みました（追加 %(created)d 件、更新 %(updated)d 件）。")
                % {"created": result.created, "updated": result.updated},
            )
            return redirect(f"standarddata:{dataset}", lg_code=lg_code)
    items = master.model.objects.order_by("standard_id")[:500]
    return render(
        request, "standarddata/list.html",
        {"dataset": dataset, "master": master, "items": items, "form": form,
         "problems": problems},
        status=400,
    )  # fmt: skip


@roles_required(*EDIT_ROLES)
@require_GET
@never_cache
def master_download(request: HttpRequest, lg_code: str, dataset: str) -> HttpResponse:
    master = _master(dataset)
    municipality = request.municipality
    content = master_export(
        dataset=dataset, lg_code=municipality.lg_code, municipality_name=municipality.name
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    filename = f"{municipality.lg_code}_{master.slug.replace('-', '_')}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
