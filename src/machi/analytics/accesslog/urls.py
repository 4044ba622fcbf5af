from django.urls import path

from machi.analytics.accesslog import views

app_name = "accesslog"

urlpatterns = [
    path("<lg:lg_code>/analytics/security/", views.queue, name="queue"),
    path("<lg:lg_code>/analytics/security/<int:pk>/", views.finding, name="finding"),
]
