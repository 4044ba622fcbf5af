from django.urls import path

from machi.opendata.views import ckan, public, staff

app_name = "opendata"

PUBLIC = "<lg:lg_code>/opendata/"
STAFF = PUBLIC + "staff/"
DATASET = PUBLIC + "<slug:dataset>/"

urlpatterns = [
    path("<lg:lg_code>/api/3/action/<str:name>", ckan.action, name="ckan_action"),
    # CKAN answers /api/action/ as API version 3 too; ckanapi calls that address.
    path("<lg:lg_code>/api/action/<str:name>", ckan.action, name="ckan_action_unversioned"),
    path("<lg:lg_code>/dcat/catalog.jsonld", public.dcat_jsonld, name="dcat_jsonld"),
    path("<lg:lg_code>/dcat/catalog.ttl", public.dcat_ttl, name="dcat_ttl"),
    path(STAFF, staff.staff_home, name="staff_home"),
    path(STAFF + "new/", staff.staff_new, name="staff_new"),
    path(STAFF + "<slug:dataset>/", staff.staff_dataset, name="staff_dataset"),
    path(STAFF + "<slug:dataset>/upload/", staff.staff_upload, name="staff_upload"),
    path(STAFF + "<slug:dataset>/<slug:action>/", staff.staff_state, name="staff_state"),
    path(PUBLIC, public.catalogue, name="catalogue"),
    path(DATASET, public.dataset_page, name="dataset"),
    path(DATASET + "resource/<str:resource_id>/", public.resource_latest, name="resource_latest"),
    path(
        DATASET + "resource/<str:resource_id>/v/<int:number>/",
        public.resource_numbered,
        name="resource_version",
    ),
]
