from django.apps import AppConfig


class ActivityPubConfig(AppConfig):
    name = "machi.activitypub"
    label = "activitypub"
    verbose_name = "ActivityPub"
    # Every row belongs to one municipality's actor: all of it lives in its database.
    tenant_models = "__all__"
