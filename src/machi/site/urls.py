from django.urls import path

from machi.site.views import public as views
from machi.site.views import staff

app_name = "site"

STAFF = "<lg:lg_code>/site/staff/"

urlpatterns = [
    path("<lg:lg_code>/", views.top, name="top"),
    path("<lg:lg_code>/pages/<path:path>/", views.page, name="page"),
    path("<lg:lg_code>/news/", views.news_list, name="news_list"),
    path("<lg:lg_code>/news/<int:pk>/", views.news_detail, name="news_detail"),
    path("<lg:lg_code>/search/", views.site_search, name="search"),
    path("<lg:lg_code>/sitemap.xml", views.sitemap, name="sitemap"),
    path("<lg:lg_code>/accessibility/", views.accessibility, name="accessibility"),
    path("<lg:lg_code>/site/images/<int:pk>/", views.image, name="image"),
    path("<lg:lg_code>/site/files/<int:pk>/", views.attachment, name="file"),
    path(STAFF, staff.tree, name="staff_tree"),
    path(STAFF + "pages/new/", staff.page_new, name="staff_page_new"),
    path(STAFF + "pages/<int:pk>/", staff.page_edit, name="staff_page"),
    path(STAFF + "news/", staff.news_list, name="staff_news"),
    path(STAFF + "news/new/", staff.news_new, name="staff_news_new"),
    path(STAFF + "news/<int:pk>/", staff.news_edit, name="staff_news_item"),
    path(STAFF + "versions/<int:pk>/", staff.version_detail, name="staff_version"),
    path(
        STAFF + "versions/<int:pk>/<slug:action>/",
        staff.version_action,
        name="staff_version_action",
    ),
    path(STAFF + "approvals/", staff.approvals, name="staff_approvals"),
    path(STAFF + "images/", staff.images, name="staff_images"),
    path(STAFF + "files/", staff.files, name="staff_files"),
]
