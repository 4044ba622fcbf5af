from django.urls import path

from machi.opendata.standard import views

app_name = "standarddata"

BASE = "<lg:lg_code>/opendata/staff/standard/"

urlpatterns = [path(BASE, views.standard_home, name="home")]
# One fixed path per master (no id in the path: a facility is named by ?id=).
for _dataset in ("shelters", "facilities", "aed"):
    urlpatterns += [
        path(BASE + f"{_dataset}/", views.master_list, {"dataset": _dataset}, name=_dataset),
        path(
            BASE + f"{_dataset}/edit/",
            views.master_edit,
            {"dataset": _dataset},
            name=f"{_dataset}_edit",
        ),
        path(
            BASE + f"{_dataset}/import/",
            views.master_upload,
            {"dataset": _dataset},
            name=f"{_dataset}_import",
        ),
        path(
            BASE + f"{_dataset}/export.csv",
            views.master_download,
            {"dataset": _dataset},
            name=f"{_dataset}_export",
        ),
    ]
