"""Reads of the ActivityPub channel (in the municipality in force)."""

from __future__ import annotations

from machi.activitypub.models import BlockedServer, Follower, Note, ReceivedNote

OUTBOX_PAGE_SIZE = 20


def follower_count() -> int:
    return Follower.objects.count()


def outbox_count() -> int:
    return Note.objects.filter(deleted_at__isnull=True).count()


def outbox_page(*, page: int) -> tuple[list[Note], bool]:
    """The Notes of page ``page`` (1 = newest) and whether a later page exists."""
    start = (page - 1) * OUTBOX_PAGE_SIZE
    live = Note.objects.filter(deleted_at__isnull=True).order_by("-published", "-pk")
    rows = list(live[start : start + OUTBOX_PAGE_SIZE + 1])
    return rows[:OUTBOX_PAGE_SIZE], len(rows) > OUTBOX_PAGE_SIZE


def note_get(*, object_key: str) -> Note | None:
    """The Note, deleted ones too (their URL answers with the Tombstone)."""
    return Note.objects.filter(object_key=object_key).first()


def received_notes() -> list[ReceivedNote]:
    return list(ReceivedNote.objects.order_by("-received_at", "-pk"))


def server_blocked(host: str) -> bool:
    """Whether ``host`` or a domain above it is blocked (``spam.example`` covers
    ``a.spam.example``)."""
    labels = host.lower().rstrip(".").split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)] or [host.lower()]
    return BlockedServer.objects.filter(host__in=candidates).exists()


def blocked_servers() -> list[BlockedServer]:
    return list(BlockedServer.objects.order_by("host"))
