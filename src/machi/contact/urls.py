from django.urls import path

from machi.contact.views import attachments, faq_admin, public, staff
from machi.contact.views import mail as contact_mail
from machi.contact.views import metrics as contact_metrics
from machi.contact.views import settings as contact_settings

app_name = "contact"

urlpatterns: list = [
    # staff: the agent's screens
    path("<lg:lg_code>/contact/tickets/", staff.ticket_list, name="tickets"),
    path("<lg:lg_code>/contact/tickets/new/", staff.ticket_new, name="ticket_new"),
    path("<lg:lg_code>/contact/tickets/new/faq/", staff.faq_suggestions, name="faq_suggestions"),
    path("<lg:lg_code>/contact/tickets/<int:pk>/", staff.ticket_detail, name="ticket"),
    path(
        "<lg:lg_code>/contact/tickets/<int:pk>/<slug:action>/",
        staff.ticket_action,
        name="ticket_action",
    ),
    path(
        "<lg:lg_code>/contact/tickets/<int:ticket_pk>/attachments/<int:pk>/",
        attachments.attachment_download,
        name="mail_attachment",
    ),
    path("<lg:lg_code>/contact/handover/", staff.handover, name="handover"),
    # staff: FAQ administration
    path("<lg:lg_code>/contact/faq/", faq_admin.faq_list, name="faq_list"),
    path("<lg:lg_code>/contact/faq/new/", faq_admin.faq_edit, name="faq_new"),
    path("<lg:lg_code>/contact/faq/default/", faq_admin.faq_default_load, name="faq_default_load"),
    path("<lg:lg_code>/contact/faq/<int:pk>/", faq_admin.faq_edit, name="faq_edit"),
    path("<lg:lg_code>/contact/faq/synonyms/", faq_admin.faq_synonyms, name="faq_synonyms"),
    path("<lg:lg_code>/contact/faq/categories/", faq_admin.faq_categories, name="faq_categories"),
    path(
        "<lg:lg_code>/contact/faq/categories/<int:pk>/<slug:action>/",
        faq_admin.faq_category_action,
        name="faq_category_action",
    ),
    path(
        "<lg:lg_code>/contact/faq/synonyms/<int:pk>/delete/",
        faq_admin.faq_synonym_remove,
        name="faq_synonym_delete",
    ),
    # public: the resident's FAQ and web contact form
    path("<lg:lg_code>/faq/", public.faq_index, name="faq_public"),
    path("<lg:lg_code>/faq/<int:pk>/", public.faq_answer, name="faq_answer"),
    path("<lg:lg_code>/faq/<int:pk>/feedback/", public.faq_vote, name="faq_vote"),
    path("<lg:lg_code>/contact/", public.contact_form, name="contact_form"),
    path(
        "<lg:lg_code>/contact/suggestions/",
        public.contact_suggestions,
        name="contact_suggestions",
    ),
    path("<lg:lg_code>/contact/done/", public.contact_done, name="contact_done"),
    # mail channel: the gateway's endpoint and the quarantine
    path("<lg:lg_code>/contact/mail/inbound/", contact_mail.mail_inbound, name="mail_inbound"),
    path(
        "<lg:lg_code>/contact/mail/quarantine/",
        contact_mail.quarantine_list,
        name="mail_quarantine_list",
    ),
    path(
        "<lg:lg_code>/contact/mail/quarantine/<int:pk>/",
        contact_mail.quarantine_detail,
        name="mail_quarantine",
    ),
    path(
        "<lg:lg_code>/contact/mail/quarantine/<int:pk>/<slug:action>/",
        contact_mail.quarantine_action,
        name="mail_quarantine_action",
    ),
    # supervisors: the contact center's figures
    path("<lg:lg_code>/contact/metrics/", contact_metrics.metrics, name="metrics"),
    path("<lg:lg_code>/contact/settings/", contact_settings.contact_settings, name="settings"),
]
