from django.urls import path

from machi.activitypub import views

app_name = "activitypub"

urlpatterns = [
    path(".well-known/webfinger", views.webfinger, name="webfinger"),
    path(".well-known/nodeinfo", views.nodeinfo_index, name="nodeinfo_index"),
    path("ap/nodeinfo/2.0", views.nodeinfo, name="nodeinfo"),
    path("ap/<lg:lg_code>/actor", views.actor, name="actor"),
    path("ap/<lg:lg_code>/icon.png", views.icon, name="icon"),
    path("ap/<lg:lg_code>/inbox", views.inbox, name="inbox"),
    path("ap/<lg:lg_code>/outbox", views.outbox, name="outbox"),
    path("ap/<lg:lg_code>/followers", views.followers, name="followers"),
    path("ap/<lg:lg_code>/notes/<str:object_key>", views.note, name="note"),
]
