from django.urls import path

from machi.analytics.forecast import views

app_name = "forecast"

PAGE = "<lg:lg_code>/analytics/forecast/"

urlpatterns = [
    path(PAGE, views.forecast_page, name="forecast"),
    path(PAGE + "daily.<str:fmt>", views.daily_download, name="download"),
    path(PAGE + "events/", views.event_add, name="event_add"),
    path(PAGE + "events/<int:event_id>/delete/", views.event_delete, name="event_delete"),
]
