from django.urls import path

from machi.audit import views

app_name = "audit"

urlpatterns = [
    path("<lg:lg_code>/audit/", views.search, name="search"),
]
