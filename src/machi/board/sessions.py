"""Board sign-in, kept apart from staff sign-in.

A board user is remembered under its own session key (:data:`SESSION_KEY`), never in
Django's auth keys: ``request.user`` stays anonymous, so no staff middleware, role
check or staff page ever treats a board user as staff. The key names the municipality:
a board user of A is nobody at B. It also carries a hash of the password hash, so
deleting the account (or a new password) ends every session of it.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

from machi.board.models import BoardUser
from machi.tenancy.context import current_lg_code

SESSION_KEY = "machi_board_user"


def _check(user: BoardUser) -> str:
    return salted_hmac("machi.board.session", user.password, algorithm="sha256").hexdigest()


def board_sign_in(request: HttpRequest, user: BoardUser) -> None:
    request.session.cycle_key()  # no session fixation
    request.session[SESSION_KEY] = {"lg": current_lg_code(), "id": user.pk, "h": _check(user)}


def board_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def board_user(request: HttpRequest) -> BoardUser | None:
    """The signed-in board user of the municipality in force, or None."""
    if hasattr(request, "_board_user"):
        return request._board_user
    found = None
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict) and data.get("lg") == current_lg_code():
        user = BoardUser.objects.filter(pk=data.get("id"), deleted_at__isnull=True).first()
        if user is not None and constant_time_compare(data.get("h", ""), _check(user)):
            found = user
    request._board_user = found
    return found
