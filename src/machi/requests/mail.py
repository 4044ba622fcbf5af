"""Mail to a resident who follows their request: the confirmation link, then a note
when the department answers publicly or changes the status (sent on commit), each with
an unsubscribe link. Only a confirmed address gets follow-up mail."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from machi.requests.models import Request, RequestReporter, RequestUpdate
from machi.tenancy.context import current_lg_code, current_tenant_alias, tenant_context

log = logging.getLogger(__name__)
SALT = "machi.requests.unsubscribe"


def _site() -> str:
    return settings.MACHI_PUBLIC_URL  # required in production (checks.public_url_check)


def unsubscribe_token(request: Request) -> str:
    return signing.dumps({"r": request.pk, "l": current_lg_code()}, salt=SALT)


def unsubscribe_check(token: str) -> int | None:
    """The request id the token unsubscribes from, in this municipality; None otherwise."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return data.get("r") if data.get("l") == current_lg_code() else None


def _links(request: Request) -> tuple[str, str]:
    lg = current_lg_code()
    page = _site() + reverse("requests:public_request", args=[lg, request.public_code])
    stop = _site() + reverse("requests:public_unsubscribe", args=[lg, unsubscribe_token(request)])
    return page, stop


def send_confirmation(*, request: Request, email: str, secret: str) -> None:
    lg = current_lg_code()
    confirm = _site() + reverse("requests:public_confirm", args=[lg, request.public_code, secret])
    page, stop = _links(request)
    body = (
        f"要望（受付番号 {request.public_code}）を受け付けました。\n\n"
        "対応の状況をメールで受け取るには、次のリンクを開いてください。\n"
        f"{confirm}\n\n"
        f"要望のページ: {page}\n"
        f"心当たりがない場合は、このメールを破棄してください。\n配信の停止: {stop}\n"
    )
    send_mail(
        f"[{request.public_code}] メールアドレスの確認", body, settings.DEFAULT_FROM_EMAIL, [email]
    )


def notify_followers_on_commit(update: RequestUpdate) -> None:
    """After the transaction commits, mail the confirmed follower about a public update."""
    if not update.is_public:
        return
    lg = current_lg_code()
    transaction.on_commit(lambda: _notify(update.pk, lg), using=current_tenant_alias())


def _notify(update_id: int, lg: str) -> None:
    with tenant_context(lg):
        update = RequestUpdate.objects.select_related("request").get(pk=update_id)
        request = update.request
        reporter = RequestReporter.objects.filter(
            request=request, email_confirmed_at__isnull=False
        ).first()
        if reporter is None or not reporter.email or not request.is_listed:
            return
        page, stop = _links(request)
        text = f"\n{update.text}\n" if update.text else ""
        body = (
            f"要望（受付番号 {request.public_code}）が更新されました。\n"
            f"状態: {update.get_status_display()}\n{text}\n"
            f"要望のページ: {page}\n配信の停止: {stop}\n"
        )
        try:
            send_mail(
                f"[{request.public_code}] 要望の更新",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [reporter.email],
            )
        except OSError:
            # the address is personal data: only the request is named
            log.exception("follower mail for request %s not sent", request.pk)
