from django.urls import path, re_path

from machi.requests import open311

app_name = "requests"

FMT = r"\.(?P<fmt>json|xml)$"
BASE = r"^open311/v2/(?P<lg_code>\d{6})/"

urlpatterns = [
    re_path(BASE + r"discovery" + FMT, open311.discovery, name="open311_discovery"),
    re_path(BASE + r"services" + FMT, open311.services, name="open311_services"),
    re_path(
        BASE + r"services/(?P<code>[^/]+?)" + FMT,
        open311.service_definition,
        name="open311_service",
    ),
    re_path(BASE + r"requests" + FMT, open311.requests, name="open311_requests"),
    re_path(
        BASE + r"requests/(?P<request_id>[^/]+?)" + FMT,
        open311.request_one,
        name="open311_request",
    ),
    re_path(BASE + r"tokens/(?P<token>[^/]+?)" + FMT, open311.token, name="open311_token"),
    re_path(BASE + r"servicerequestupdates" + FMT, open311.updates, name="open311_updates"),
    re_path(BASE + r".*$", open311.not_found, name="open311_not_found"),
    path("open311/v2/<str:lg_code>/", open311.not_found),
]
