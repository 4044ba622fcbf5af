from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "machi.board"
    label = "board"
    verbose_name = "Community board (地域SNS)"
    # Board accounts, posts and reports live in the municipality's own database: a board
    # user of one municipality does not exist in another's, and nothing here joins the
    # registry (the residence check stores only that a counter code was used).
    tenant_models = "__all__"
