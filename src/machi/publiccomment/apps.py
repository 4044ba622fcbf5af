from django.apps import AppConfig


class PubliccommentConfig(AppConfig):
    name = "machi.publiccomment"
    label = "publiccomment"
    verbose_name = "Public comment (意見公募手続)"
    # Drafts, submitters' comments and their personal data live in the municipality's
    # own database: one municipality's submitters are never reachable from another's.
    tenant_models = "__all__"
