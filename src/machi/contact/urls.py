from django.urls import path  # noqa: F401  (the contact center's pages are added here)

app_name = "contact"

urlpatterns: list = []
