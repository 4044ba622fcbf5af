"""Puts the municipality named by the URL (/<lg_code>/… or /api/v1/<lg_code>/…) in force."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from machi.tenancy.context import tenant_context
from machi.tenancy.selectors import municipality_get

TENANT_PATH = re.compile(r"^/(?:api/v1/)?(?P<lg_code>\d{6})(?:/|$)")


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.municipality = None
        match = TENANT_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        # A signed-in staff member's own municipality came with them (select_related,
        # this request): the same row, no second query. Anyone else: look it up.
        user = getattr(request, "user", None)
        own = (
            getattr(user, "municipality", None)
            if getattr(user, "is_authenticated", False)
            else None
        )
        if own is not None and own.lg_code == match["lg_code"] and own.is_active:
            municipality = own
        else:
            municipality = municipality_get(lg_code=match["lg_code"])
        if municipality is None:
            if request.path_info.startswith("/api/"):
                # API clients read JSON errors, not the staff 404 page.
                message = f"自治体コード {match['lg_code']} の自治体はありません。"
                return JsonResponse(
                    {"detail": message}, status=404, json_dumps_params={"ensure_ascii": False}
                )
            raise Http404("no such municipality")
        request.municipality = municipality
        with tenant_context(municipality.lg_code):
            return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        """Staff of one municipality never reach another's pages (fail closed).

        Only views explicitly marked public (e.g. the queue display board) skip the
        check; API views authenticate their clients themselves and check the tenant.
        """
        municipality = request.municipality
        if municipality is None or getattr(view_func, "machi_public", False):
            return None
        if request.path_info.startswith("/api/"):
            return None
        user = request.user
        if not user.is_authenticated:
            return None  # StaffSessionMiddleware has already sent them to the login page
        if user.is_platform_operator or user.municipality_id != municipality.pk:
            raise PermissionDenied("別の自治体のページです。")
        return None
