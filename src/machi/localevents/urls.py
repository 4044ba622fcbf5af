from django.urls import path

from machi.localevents.views import public, staff

app_name = "localevents"

PUBLIC = "<lg:lg_code>/events/"
STAFF = PUBLIC + "staff/"

urlpatterns = [
    path(PUBLIC, public.calendar_month, name="calendar"),
    path(PUBLIC + "calendar.ics", public.calendar_ics, name="calendar_ics"),
    path(PUBLIC + "opendata/event.csv", public.opendata_csv, name="opendata_csv"),
    path(PUBLIC + "new/", public.event_submit, name="submit"),
    path(PUBLIC + "sent/", public.event_sent, name="sent"),
    path(PUBLIC + "edit/<str:token>/", public.organiser_edit, name="organiser_edit"),
    path(PUBLIC + "<int:pk>/", public.event_page, name="event"),
    path(PUBLIC + "<int:pk>.ics", public.event_ics, name="event_ics"),
    path(PUBLIC + "<int:pk>/report/", public.event_report, name="report"),
    path(PUBLIC + "<int:pk>/confirm/<str:secret>/", public.event_confirm, name="confirm"),
    path(STAFF, staff.staff_home, name="staff_home"),
    path(STAFF + "new/", staff.official_new, name="staff_new"),
    path(STAFF + "<int:pk>/", staff.staff_event, name="staff_event"),
    path(STAFF + "<int:pk>/edit/", staff.official_edit, name="staff_edit"),
    path(STAFF + "<int:pk>/<slug:action>/", staff.staff_action, name="staff_action"),
]
