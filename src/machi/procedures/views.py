"""The municipality administrator's procedure catalogue page: the catalogue in force,
its versions, the upload of a new version and the downloads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.procedures import selectors, services
from machi.procedures.engine import EVENT_LABELS, Catalogue, default_document
from machi.procedures.engine.catalogue import DEFAULT_CATALOGUE_PATH
from machi.procedures.forms import CatalogueUploadForm
from machi.web.decorators import roles_required

APPLIES_TO_LABELS = {
    "newborn": "新生児",
    "each_subject": "対象者ごと",
    "deceased": "亡くなった人",
    "claimant": "児童手当の請求者",
    "custodial_parent": "監護する親",
    "household": "世帯",
}

EMPTY_OVERRIDE = """\
# この自治体の手続き目録（既定の目録への変更分）。書き方は docs/counter.md を参照。
departments: {}
closed_days: []
procedures: []
"""


def _due_label(due: str | None) -> str:
    if due is None:
        return _("なし")
    if due == "D":
        return _("当日")
    return _("%(days)s日以内") % {"days": due.lstrip("+")}


def _rows(catalogue: Catalogue) -> list[dict[str, Any]]:
    """One row per entry and distinct rule (an entry with per-event variants has one
    row per variant)."""
    rows = []
    for entry in catalogue.entries:
        groups: dict[tuple, list[str]] = {}
        for event in entry.events:
            spec = entry.rule_for(event)
            key = (spec["applies_to"], spec["condition"], spec["due"])
            groups.setdefault(key, []).append(event)
        for (applies_to, condition, due), events in groups.items():
            rows.append(
                {
                    "code": entry.code,
                    "title": entry.title,
                    "department": catalogue.departments.get(entry.department, entry.department),
                    "events": "、".join(EVENT_LABELS[e] for e in events),
                    "applies_to": APPLIES_TO_LABELS.get(applies_to, applies_to),
                    "condition": condition,
                    "due": _due_label(due),
                    "bring": "、".join(entry.bring),
                    "bring_from_abroad": (
                        None
                        if entry.bring_from_abroad is None
                        else "、".join(entry.bring_from_abroad)
                    ),
                }
            )
    return rows


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_http_methods(["GET", "POST"])
def catalogue(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = CatalogueUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            version = services.catalogue_upload(
                text=form.cleaned_data["text"],
                actor=request.user,
                comment=form.cleaned_data["comment"],
                terminal=Terminal.from_request(request),
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(
                request,
                _("手続き目録の第%(version)s版を登録しました。") % {"version": version.version},
            )
            return redirect("procedures:catalogue", lg_code=lg_code)
    effective = selectors.catalogue_effective()
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "procedures/catalogue.html",
        {
            "form": form,
            "catalogue_errors": errors,
            "current": effective.version,
            "versions": list(selectors.catalogue_versions()[:50]),
            "rows": _rows(effective.catalogue),
            "departments": [
                (code, name, effective.catalogue.places.get(code, ""))
                for code, name in effective.catalogue.departments.items()
            ],
            "closed_days": sorted(effective.catalogue.closed_days),
        },
        status=status,
    )


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_GET
def catalogue_download(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The active override file (``?version=N`` an older one, ``?default=1`` the default
    catalogue), as YAML."""
    if request.GET.get("default"):
        default_document()  # the file is valid (loaded once per process)
        text = DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8")
        filename = "procedures-default.yaml"
    else:
        wanted = request.GET.get("version")
        versions = selectors.catalogue_versions()
        if wanted:
            if not wanted.isdigit():
                raise Http404("no such version")
            version = versions.filter(version=int(wanted)).first()
            if version is None:
                raise Http404("no such version")
        else:
            version = selectors.catalogue_active_version()
        text = version.text if version is not None else EMPTY_OVERRIDE
        number = version.version if version is not None else 0
        filename = f"procedures-{lg_code}-v{number}.yaml"
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
