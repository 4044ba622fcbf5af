"""The municipality administrator's webhook pages: subscriptions (list, create, disable),
a subscription's deliveries with its dead letters and resend, and the operations view."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.linkage import services, webhook_selectors
from machi.linkage.forms import SubscriptionForm
from machi.linkage.models import Delivery, DeliveryStatus, Subscription
from machi.web.decorators import roles_required

DELIVERY_LIMIT = 100


def _subscription(pk: int) -> Subscription:
    subscription = webhook_selectors.subscription_get(pk=pk)
    if subscription is None:
        raise Http404("no such subscription")
    return subscription


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = services.subscription_create(
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"],
                types=form.type_list(),
                secret=form.cleaned_data["secret"] or None,
                actor=request.user,
                terminal=Terminal.from_request(request),
            )
        except ValidationError as error:
            errors = error.messages
        else:
            if form.cleaned_data["secret"]:
                messages.success(
                    request,
                    _("購読「%(name)s」を登録しました。") % {"name": subscription.name},
                )
                return redirect("linkage:subscriptions", lg_code=lg_code)
            # A generated secret is shown once, on this page only (never stored in clear).
            return render(
                request,
                "linkage/subscription_created.html",
                {"subscription": subscription, "secret": secret},
            )
    return render(
        request,
        "linkage/subscriptions.html",
        {
            "form": form,
            "create_errors": errors,
            "rows": webhook_selectors.subscriptions_health(),
        },
        status=400 if request.method == "POST" else 200,
    )


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_GET
def subscription_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    subscription = _subscription(pk)
    (health,) = webhook_selectors.subscriptions_health(subscriptions=[subscription])
    deliveries = webhook_selectors.subscription_deliveries(subscription=subscription)
    return render(
        request,
        "linkage/subscription_detail.html",
        {
            "subscription": subscription,
            "health": health,
            "dead": list(deliveries.filter(status=DeliveryStatus.DEAD)[:DELIVERY_LIMIT]),
            "recent": list(deliveries[:DELIVERY_LIMIT]),
            "limit": DELIVERY_LIMIT,
        },
    )


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_POST
def subscription_disable(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    subscription = services.subscription_disable(
        subscription=_subscription(pk), actor=request.user, terminal=Terminal.from_request(request)
    )
    messages.success(request, _("購読「%(name)s」を停止しました。") % {"name": subscription.name})
    return redirect("linkage:subscriptions", lg_code=lg_code)


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_POST
def delivery_resend(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    """``delivery=<id>`` resends one dead letter; ``all=1`` every dead letter of the
    subscription."""
    subscription = _subscription(pk)
    dead = Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.DEAD)
    if request.POST.get("all"):
        rows = list(dead)
    else:
        wanted = request.POST.get("delivery", "")
        rows = list(dead.filter(pk=int(wanted))) if wanted.isdigit() else []
    count = services.delivery_resend(
        deliveries=rows, actor=request.user, terminal=Terminal.from_request(request)
    )
    if count:
        messages.success(request, _("%(count)s 件を再送します。") % {"count": count})
    else:
        messages.info(request, _("再送する配信不能の配信はありませんでした。"))
    return redirect("linkage:subscription_detail", lg_code=lg_code, pk=subscription.pk)


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_GET
def operations(request: HttpRequest, lg_code: str) -> HttpResponse:
    rows = webhook_selectors.subscriptions_health()
    return render(
        request,
        "linkage/operations.html",
        {
            "rows": rows,
            "active": [r for r in rows if r.active],
            "totals": {
                "lag_events": sum(r.lag_events for r in rows if r.active),
                "failing": sum(r.failing for r in rows if r.active),
                "dead": sum(r.dead for r in rows),
            },
        },
    )
