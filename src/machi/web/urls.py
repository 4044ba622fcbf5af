from django.urls import path

from machi.web import views

app_name = "web"

urlpatterns = [
    path("", views.start, name="start"),
    path("platform/", views.platform, name="platform"),
    path("<lg:lg_code>/", views.home, name="home"),
]
