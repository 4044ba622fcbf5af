from django.urls import path

from machi.announce import views

app_name = "announce"

FEEDS = "<lg:lg_code>/feeds/"
PUBLIC = "<lg:lg_code>/announcements/"
STAFF = "<lg:lg_code>/announcements/staff/"

urlpatterns = [
    path(FEEDS + "news.rss", views.feed_rss, name="feed_rss"),
    path(FEEDS + "news.atom", views.feed_atom, name="feed_atom"),
    path(FEEDS + "cap.xml", views.feed_cap, name="feed_cap"),
    path(PUBLIC, views.public_list, name="public_list"),
    path(PUBLIC + "<int:pk>/", views.public_detail, name="public_detail"),
    path(PUBLIC + "<int:pk>/cap.xml", views.cap_alert, name="cap_alert"),
    path(PUBLIC + "subscribe/", views.subscribe, name="subscribe"),
    path(
        PUBLIC + "subscribe/confirm/<str:secret>/",
        views.subscribe_confirm,
        name="subscribe_confirm",
    ),
    path(PUBLIC + "unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path(STAFF, views.staff_list, name="staff_list"),
    path(STAFF + "new/", views.staff_create, name="staff_create"),
    path(STAFF + "<int:pk>/", views.staff_detail, name="staff_detail"),
    path(STAFF + "<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path(
        STAFF + "<int:pk>/deliveries/<int:delivery_pk>/retry/",
        views.staff_retry,
        name="staff_retry",
    ),
    path(STAFF + "<int:pk>/<slug:action>/", views.staff_action, name="staff_action"),
]
