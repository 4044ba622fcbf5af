from django.apps import AppConfig


class AnnounceConfig(AppConfig):
    name = "machi.announce"
    label = "announce"
    verbose_name = "Announcements"
    # Announcements, their deliveries and the mail subscribers live in the
    # municipality's own database.
    tenant_models = "__all__"
