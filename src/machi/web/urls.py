from django.urls import path

from machi.web import views

app_name = "web"

urlpatterns = [
    path("", views.start, name="start"),
    path("platform/", views.platform, name="platform"),
    # The public site has /<lg_code>/ (machi.site); the staff home is below it.
    path("<lg:lg_code>/staff/", views.home, name="home"),
]
