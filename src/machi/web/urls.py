from django.urls import path

from machi.web import views

app_name = "web"

urlpatterns = [
    path("", views.start, name="start"),
    path("platform/", views.platform, name="platform"),
    # The public site has /<lg_code>/ (machi.site); /<lg_code>/staff/ is the staff
    # administration (accounts), so the staff home is /<lg_code>/home/.
    path("<lg:lg_code>/home/", views.home, name="home"),
]
