"""The rules engine of the procedure navigator, in pure Python (no Django here).

* :mod:`.catalogue` — the catalogue schema, loading, merging a municipality's override
  and validation (:func:`build_catalogue`, :func:`default_catalogue`);
* :mod:`.conditions` — CEL: the helper functions and the compile-time checks;
* :mod:`.navigator` — input validation and evaluation (:func:`navigate`);
* :mod:`.relevance` — which questions could still change the output
  (:func:`question_relevance`).
"""

from machi.procedures.engine.catalogue import (
    APPLIES_TO,
    EVENT_LABELS,
    EVENT_TYPES,
    REASON_FIELDS,
    Catalogue,
    Entry,
    Rule,
    build_catalogue,
    default_catalogue,
    default_document,
    load_document,
)
from machi.procedures.engine.conditions import HELPERS, VARIABLES
from machi.procedures.engine.errors import CatalogueError, NavigatorInputError, RuleEvaluationError
from machi.procedures.engine.navigator import navigate, prepare, run
from machi.procedures.engine.relevance import QUESTION_FIELDS, Relevance, question_relevance

__all__ = [
    "APPLIES_TO",
    "EVENT_LABELS",
    "EVENT_TYPES",
    "HELPERS",
    "QUESTION_FIELDS",
    "REASON_FIELDS",
    "VARIABLES",
    "Catalogue",
    "CatalogueError",
    "Entry",
    "NavigatorInputError",
    "Relevance",
    "Rule",
    "RuleEvaluationError",
    "build_catalogue",
    "default_catalogue",
    "default_document",
    "load_document",
    "navigate",
    "prepare",
    "question_relevance",
    "run",
]
