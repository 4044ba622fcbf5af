"""How a view declares who may reach it. Without a mark a view needs a verified staff login."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied


def public_view(view: Callable) -> Callable:
    """No login needed (login page, display boards)."""
    view.machi_public = True
    return view


def login_only_view(view: Callable) -> Callable:
    """Password login needed, second factor not yet (enrolment, verification, logout)."""
    view.machi_login_only = True
    return view


def polling_view(view: Callable) -> Callable:
    """Requests a page makes by itself (htmx polling) do not count as staff activity."""
    view.machi_polling = True
    return view


def roles_required(*roles: str) -> Callable[[Callable], Callable]:
    """The staff member must hold one of ``roles`` in some department."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated or not request.user.has_role(*roles):
                raise PermissionDenied("この画面を使う役割がありません。")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def platform_operator_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated or not request.user.is_platform_operator:
            raise PermissionDenied("基盤運用者だけが使える画面です。")
        return view(request, *args, **kwargs)

    return wrapper
