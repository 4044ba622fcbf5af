from django.urls import include, path, register_converter

from machi.api import api
from machi.web.converters import LgCodeConverter

register_converter(LgCodeConverter, "lg")

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("machi.activitypub.urls")),
    path("", include("machi.accounts.urls")),
    path("", include("machi.audit.urls")),
    path("", include("machi.registry.urls")),
    path("", include("machi.procedures.urls")),
    path("", include("machi.counter.urls")),
    path("", include("machi.moves.urls")),
    path("", include("machi.requests.urls")),
    path("", include("machi.contact.urls")),
    path("", include("machi.publiccomment.urls")),
    path("", include("machi.board.urls")),
    path("", include("machi.localevents.urls")),
    path("", include("machi.apiclients.urls")),
    path("", include("machi.linkage.urls")),
    path("", include("machi.announce.urls")),
    path("", include("machi.easyja.urls")),
    path("", include("machi.site.urls")),
    # Before the catalogue: its staff/<slug:name>/ would take staff/standard/.
    path("", include("machi.opendata.standard.urls")),
    path("", include("machi.opendata.urls")),
    path("", include("machi.analytics.forecast.urls")),
    path("", include("machi.analytics.accesslog.urls")),
    path("", include("machi.analytics.urls")),
    path("", include("machi.web.urls")),
]

handler400 = "machi.web.views.error_400"
handler403 = "machi.web.views.error_403"
handler404 = "machi.web.views.error_404"
handler500 = "machi.web.views.error_500"
