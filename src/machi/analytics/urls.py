"""The dashboards' routes. Each dashboard has explicit paths of its own, so
``/<lg_code>/analytics/forecast/`` and ``/<lg_code>/analytics/security/`` (other apps)
are never taken for a dashboard."""

from django.urls import path

from machi.analytics import views
from machi.analytics.selectors import DASHBOARDS

app_name = "analytics"

urlpatterns = [
    path("<lg:lg_code>/analytics/", views.home, name="home"),
    path("platform/analytics/", views.platform_home, name="platform_home"),
]

for _slug in DASHBOARDS:
    urlpatterns += [
        path(
            f"<lg:lg_code>/analytics/{_slug}/",
            views.dashboard,
            {"slug": _slug},
            name="dashboard",
        ),
        path(
            f"platform/analytics/{_slug}/",
            views.platform_dashboard,
            {"slug": _slug},
            name="platform_dashboard",
        ),
    ]
    for _fmt in views.FORMATS:
        urlpatterns += [
            path(
                f"<lg:lg_code>/analytics/{_slug}/<slug:chart>.{_fmt}",
                views.download,
                {"slug": _slug, "fmt": _fmt},
                name="download",
            ),
            path(
                f"platform/analytics/{_slug}/<slug:chart>.{_fmt}",
                views.platform_download,
                {"slug": _slug, "fmt": _fmt},
                name="platform_download",
            ),
        ]
