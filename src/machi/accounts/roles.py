"""Staff roles and the default departments (DOMAIN.md §6, DESIGN.md "Who may do what")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTER_CLERK = "counter_clerk", _("窓口担当")
    DEPARTMENT_STAFF = "department_staff", _("担当課職員")
    SUPERVISOR = "supervisor", _("監督者")
    MUNICIPALITY_ADMIN = "municipality_admin", _("自治体管理者")
    # The website and announcements: an author drafts, an approver publishes (issue 14).
    WEB_AUTHOR = "web_author", _("ウェブ作成者")
    WEB_APPROVER = "web_approver", _("ウェブ承認者")
    # The community board and the local events calendar.
    MODERATOR = "moderator", _("掲示板モデレーター")
    # Reviews the access-log analyses' findings (issue 15).
    SECURITY_OFFICER = "security_officer", _("情報セキュリティ責任者")


DEFAULT_DEPARTMENTS: dict[str, str] = {
    "shimin": "市民課",
    "hoken_nenkin": "保険年金課",
    "kaigo": "介護保険課",
    "kosodate": "子育て支援課",
    "kenko": "健康推進課",
    "kyoiku": "学校教育課",
    "kankyo": "環境衛生課",
    "fukushi": "障害福祉課",
    "zeimu": "税務課",
    # named by the default categories of residents' requests (requests 0002)
    "doro": "道路課",
    "koen": "公園緑地課",
    "kikaku": "企画課",
    # the website, announcements and the community board (accounts 0004)
    "koho": "広報課",
    "bosai": "防災課",
}

# 番号利用事務: only staff of these departments may be allowed to reveal a My Number.
MY_NUMBER_DEPARTMENTS = frozenset(
    {"shimin", "hoken_nenkin", "kaigo", "kosodate", "fukushi", "zeimu"}
)
