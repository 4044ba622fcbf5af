"""The municipality administrator's API client page: list, register (the token is shown
once, on the response to the registration), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.apiclients import selectors, services
from machi.apiclients.forms import ApiClientForm
from machi.audit.services import Terminal
from machi.web.decorators import roles_required


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_http_methods(["GET", "POST"])
@never_cache
def client_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = ApiClientForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            day = form.cleaned_data["expires_on"]
            try:
                created = services.apiclient_create(
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=services.expiry_end_of_day(day) if day else None,
                    actor=request.user,
                    terminal=Terminal.from_request(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
                status = 400
            else:
                form = ApiClientForm()
        else:
            status = 400
    return render(
        request,
        "apiclients/client_list.html",
        {"form": form, "created": created, "clients": list(selectors.apiclient_list())},
        status=status,
    )


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_POST
def client_revoke(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    client = selectors.apiclient_get(pk=pk)
    if client is None:
        raise Http404("no such client")
    services.apiclient_revoke(
        client=client, actor=request.user, terminal=Terminal.from_request(request)
    )
    messages.success(request, _("「%(name)s」のトークンを失効させました。") % {"name": client.name})
    return redirect("apiclients:list", lg_code=lg_code)
