from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "machi.site"
    label = "site"
    verbose_name = "Website (ウェブサイト)"
    # Pages, news, their versions, images and files live in the municipality's own
    # database, like everything else the municipality writes.
    tenant_models = "__all__"
