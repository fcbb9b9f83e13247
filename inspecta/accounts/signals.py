"""Authentication events from Django's signals, and the session registry."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .choices import AuthEventKind
from .models import ActiveSession
from .services import auth_event_record


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    auth_event_record(kind=AuthEventKind.LOGIN_SUCCEEDED, username=user.username, user=user, request=request)
    if request is not None and getattr(request, "session", None) is not None:
        if not request.session.session_key:
            request.session.save()
        ActiveSession.objects.update_or_create(
            session_key=request.session.session_key,
            defaults={
                "user": user,
                "ip": request.META.get("REMOTE_ADDR") or None,
                "user_agent": request.META.get("HTTP_USER_AGENT", "")[:255],
            },
        )


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    auth_event_record(kind=AuthEventKind.LOGOUT, username=user.username, user=user, request=request)
    if request is not None and request.session.session_key:
        ActiveSession.objects.filter(session_key=request.session.session_key).delete()


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from .models import User

    username = str(credentials.get("username", ""))
    user = User.objects.filter(username=username).first()
    auth_event_record(kind=AuthEventKind.LOGIN_FAILED, username=username, user=user, request=request)


@receiver(user_locked_out)
def _on_locked_out(sender: Any, request: Any, username: str | None = None, **kwargs: Any) -> None:
    from .models import User

    name = username or ""
    auth_event_record(
        kind=AuthEventKind.LOCKED_OUT, username=name, user=User.objects.filter(username=name).first(), request=request
    )
