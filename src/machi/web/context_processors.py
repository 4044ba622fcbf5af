from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from machi.accounts.roles import Role


def csp_nonce(request: Any) -> dict[str, str]:
    """`{% htmx_script %}` reads `csp_nonce`; django-csp only sets `CSP_NONCE`."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def navigation(request: Any) -> dict[str, Any]:
    """The navigation links the signed-in staff member's roles allow."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"nav_items": []}
    if user.is_platform_operator:
        return {"nav_items": [{"label": _("自治体一覧"), "url": reverse("web:platform")}]}
    lg_code = user.municipality.lg_code
    items = [{"label": _("ホーム"), "url": reverse("web:home", args=[lg_code])}]
    if user.has_role(Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR):
        # A municipality administrator reads no residents without a working role.
        items.append({"label": _("住民検索"), "url": reverse("registry:search", args=[lg_code])})
    if user.has_role(Role.COUNTER_CLERK, Role.SUPERVISOR):
        items.append({"label": _("窓口呼出"), "url": reverse("counter:call", args=[lg_code])})
        items.append({"label": _("転入予約"), "url": reverse("moves:reservations", args=[lg_code])})
    if user.has_role(Role.DEPARTMENT_STAFF, Role.SUPERVISOR):
        items.append(
            {"label": _("担当課の手続き"), "url": reverse("counter:tasks", args=[lg_code])}
        )
    if user.has_role(Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR):
        items.append({"label": _("問い合わせ"), "url": reverse("contact:tickets", args=[lg_code])})
    if user.has_role(Role.DEPARTMENT_STAFF, Role.SUPERVISOR, Role.MUNICIPALITY_ADMIN):
        items.append({"label": _("FAQ の管理"), "url": reverse("contact:faq_list", args=[lg_code])})
    if user.has_role(Role.SUPERVISOR, Role.MUNICIPALITY_ADMIN):
        items.append(
            {"label": _("コールセンターの設定"), "url": reverse("contact:settings", args=[lg_code])}
        )
    if user.has_role(Role.WEB_AUTHOR, Role.WEB_APPROVER):
        items.append(
            {"label": _("ウェブサイト"), "url": reverse("site:staff_tree", args=[lg_code])}
        )
    if user.has_role(Role.WEB_AUTHOR, Role.WEB_APPROVER):
        items.append(
            {"label": _("お知らせ配信"), "url": reverse("announce:staff_list", args=[lg_code])}
        )
    if user.has_role(Role.DEPARTMENT_STAFF, Role.SUPERVISOR):
        items.append(
            {
                "label": _("パブリックコメント"),
                "url": reverse("publiccomment:staff_list", args=[lg_code]),
            }
        )
    if user.has_role(Role.WEB_AUTHOR, Role.MODERATOR):
        items.append(
            {"label": _("地域イベント"), "url": reverse("localevents:staff_home", args=[lg_code])}
        )
    if user.has_role(Role.WEB_AUTHOR, Role.WEB_APPROVER, Role.MUNICIPALITY_ADMIN):
        items.append(
            {"label": _("オープンデータ"), "url": reverse("opendata:staff_home", args=[lg_code])}
        )
    if user.has_role(Role.MODERATOR):
        items.append(
            {"label": _("地域掲示板"), "url": reverse("board:staff_queue", args=[lg_code])}
        )
    if user.has_role(Role.WEB_AUTHOR, Role.MUNICIPALITY_ADMIN):
        items.append({"label": _("ふりがな"), "url": reverse("easyja:readings", args=[lg_code])})
    if user.has_role(Role.SUPERVISOR):
        items.append(
            {"label": _("問い合わせの指標"), "url": reverse("contact:metrics", args=[lg_code])}
        )
        items.append({"label": _("監査ログ"), "url": reverse("audit:search", args=[lg_code])})
    if user.has_role(Role.MUNICIPALITY_ADMIN):
        items.append(
            {"label": _("職員管理"), "url": reverse("accounts:staff_list", args=[lg_code])}
        )
        items.append(
            {"label": _("手続き目録"), "url": reverse("procedures:catalogue", args=[lg_code])}
        )
        items.append(
            {
                "label": _("要望の分類と区域"),
                "url": reverse("requests:admin_categories", args=[lg_code]),
            }
        )
        items.append(
            {"label": _("APIクライアント"), "url": reverse("apiclients:list", args=[lg_code])}
        )
        items.append(
            {
                "label": _("イベント通知の購読"),
                "url": reverse("linkage:subscriptions", args=[lg_code]),
            }
        )
        items.append(
            {"label": _("連携の運用状況"), "url": reverse("linkage:operations", args=[lg_code])}
        )
    return {"nav_items": items}
