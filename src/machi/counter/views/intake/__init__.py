"""The life-event intake screen (総合窓口の受付, htmx): from a called ticket to the
printed summary in one page.

``/<lg>/counter/intake/`` shows one step at a time; each step is a form whose answer
(htmx) is the next step, swapped into ``#intake``. Without htmx the same views answer
the whole page. One module per step:

1. :mod:`.event` — 届出: the event, its date (和暦 or 西暦) and optionally a resident's
   pre-application code, whose answers are loaded into the draft;
2. :mod:`.persons` — 人: the household (registry search) and/or the newcomers;
3. :mod:`.questions` — 確認事項: what the registry cannot know;
4. :mod:`.preview` — 手続き一覧: the navigator on the draft, problems by step and field;
5. :mod:`.confirm` — 確定 (one transaction), the result page, and 中止.

:mod:`._shared` holds the rest: the role check, the draft (a JSON dict in the session
under :data:`SESSION_KEY`; cleared on confirm and cancel), the service input built
from it, the error summary and the page views that dispatch to the steps. Registry
reads go through the audited selectors.
"""

# importing the step modules registers the steps
from machi.counter.views.intake import event, persons, preview, questions  # noqa: F401
from machi.counter.views.intake._shared import (
    SESSION_KEY,
    _new_draft,
    intake,
    intake_data,
    intake_role_required,
    intake_step,
    staff_may_intake,
)
from machi.counter.views.intake.confirm import intake_cancel, intake_confirm, intake_done
from machi.counter.views.intake.persons import intake_household, intake_search
from machi.counter.views.intake.preview import intake_preview
from machi.counter.views.intake.questions import intake_postal

__all__ = [
    "SESSION_KEY",
    "_new_draft",
    "intake",
    "intake_cancel",
    "intake_confirm",
    "intake_data",
    "intake_done",
    "intake_household",
    "intake_postal",
    "intake_preview",
    "intake_role_required",
    "intake_search",
    "intake_step",
    "staff_may_intake",
]
