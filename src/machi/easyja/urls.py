from django.urls import path

from machi.easyja import views

app_name = "easyja"

urlpatterns = [
    path("<lg:lg_code>/easyja/staff/readings/", views.readings, name="readings"),
]
