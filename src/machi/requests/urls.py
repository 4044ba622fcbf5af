from django.urls import path, re_path

from machi.requests import open311
from machi.requests.views import admin as req_admin
from machi.requests.views import public, staff

app_name = "requests"

FMT = r"\.(?P<fmt>json|xml)$"
BASE = r"^open311/v2/(?P<lg_code>\d{6})/"

STAFF = "<lg:lg_code>/requests/staff/"
ADMIN = "<lg:lg_code>/requests/admin/"
PUBLIC = "<lg:lg_code>/requests/"
CODE = PUBLIC + "<str:public_code>/"  # after new/, filed/ and unsubscribe/: 404 if unknown

urlpatterns = [
    path(PUBLIC, public.request_list, name="public_list"),
    path(PUBLIC + "new/", public.request_new, name="public_new"),
    path(PUBLIC + "filed/", public.request_filed, name="public_filed"),
    path(
        PUBLIC + "unsubscribe/<str:token>/", public.request_unsubscribe, name="public_unsubscribe"
    ),
    path(CODE, public.request_public, name="public_request"),
    path(CODE + "photos/<int:pk>/", public.request_photo, name="public_photo"),
    path(CODE + "confirm/<str:secret>/", public.request_confirm, name="public_confirm"),
    path(STAFF + "<int:pk>/", staff.request_detail, name="staff_request"),
    path(STAFF + "<int:pk>/reporter/", staff.reporter_reveal, name="staff_reporter"),
    path(STAFF + "<int:pk>/<slug:action>/", staff.request_action, name="staff_action"),
    path(STAFF + "templates/", staff.templates, name="staff_templates"),
    path(STAFF + "templates/<int:pk>/", staff.template_edit, name="staff_template"),
    path(STAFF + "templates/<int:pk>/delete/", staff.template_delete, name="staff_template_delete"),
    path(ADMIN + "categories/", req_admin.categories, name="admin_categories"),
    path(ADMIN + "categories/<int:pk>/", req_admin.category, name="admin_category"),
    path(
        ADMIN + "categories/<int:pk>/attributes/",
        req_admin.attribute_save,
        name="admin_attribute_add",
    ),
    path(
        ADMIN + "categories/<int:pk>/attributes/<int:attribute_pk>/",
        req_admin.attribute_save,
        name="admin_attribute",
    ),
    path(
        ADMIN + "categories/<int:pk>/attributes/<int:attribute_pk>/delete/",
        req_admin.attribute_delete,
        name="admin_attribute_delete",
    ),
    path(ADMIN + "areas/", req_admin.areas, name="admin_areas"),
    path(ADMIN + "areas/upload/", req_admin.areas_upload, name="admin_areas_upload"),
    path(ADMIN + "rules/", req_admin.rule_set, name="admin_rule"),
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
