"""The staff home pages, the platform page and the error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from machi.tenancy.selectors import database_health, municipality_list
from machi.web.decorators import platform_operator_required, public_view


def start(request: HttpRequest) -> HttpResponse:
    """Where a signed-in staff member lands: their municipality, or the platform page."""
    if request.user.is_platform_operator:
        return redirect("web:platform")
    return redirect("web:home", lg_code=request.user.municipality.lg_code)


def home(request: HttpRequest, lg_code: str) -> HttpResponse:
    memberships = request.user.memberships.select_related("department").order_by(
        "department_id", "role"
    )
    return render(request, "web/home.html", {"memberships": memberships})


@platform_operator_required
def platform(request: HttpRequest) -> HttpResponse:
    health = {item.name: item for item in database_health()}
    rows = [
        {"municipality": m, "health": health.get(f"tenant_{m.lg_code}")}
        for m in municipality_list()
    ]
    return render(
        request, "web/platform.html", {"rows": rows, "control_health": health.get("default")}
    )


@public_view
def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


@public_view
def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


@public_view
def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


@public_view
def error_500(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the database may be what failed.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render({}), status=500)
