"""The ActivityStreams documents of a municipality's actor, built from rows.

``origin`` (``https://host``) is where the documents are served: the host a request
came to, or ``MACHI_PUBLIC_URL`` for what is delivered outside a request.
"""

from __future__ import annotations

from django.conf import settings

from machi.activitypub.models import Actor, Note

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
#: contentMap carries these: BCP 47 has no tag for やさしい日本語 (see the decisions).
CONTENT_MAP_LANGUAGES = ("ja", "en")


def public_origin() -> str:
    origin = settings.MACHI_PUBLIC_URL.rstrip("/")
    if not origin:
        raise RuntimeError("MACHI_PUBLIC_URL is not set: ActivityPub ids need the public host")
    return origin


def actor_url(origin: str, lg_code: str) -> str:
    return f"{origin}/ap/{lg_code}/actor"


def key_id(origin: str, lg_code: str) -> str:
    return actor_url(origin, lg_code) + "#main-key"


def inbox_url(origin: str, lg_code: str) -> str:
    return f"{origin}/ap/{lg_code}/inbox"


def outbox_url(origin: str, lg_code: str) -> str:
    return f"{origin}/ap/{lg_code}/outbox"


def followers_url(origin: str, lg_code: str) -> str:
    return f"{origin}/ap/{lg_code}/followers"


def note_url(origin: str, lg_code: str, object_key: str) -> str:
    return f"{origin}/ap/{lg_code}/notes/{object_key}"


def site_url(origin: str, lg_code: str) -> str:
    return f"{origin}/{lg_code}/"


def actor_document(origin: str, *, lg_code: str, name: str, actor: Actor) -> dict:
    me = actor_url(origin, lg_code)
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT],
        "id": me,
        "type": "Organization",
        "preferredUsername": lg_code,
        "name": name,
        "summary": f"<p>{name}からのお知らせ（公式）。Official announcements of {name}.</p>",
        "url": site_url(origin, lg_code),
        "inbox": inbox_url(origin, lg_code),
        "outbox": outbox_url(origin, lg_code),
        "followers": followers_url(origin, lg_code),
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "published": actor.created_at.isoformat(),
        "icon": {
            "type": "Image",
            "mediaType": "image/png",
            "url": f"{origin}/ap/{lg_code}/icon.png",
        },
        "publicKey": {
            "id": key_id(origin, lg_code),
            "owner": me,
            "publicKeyPem": actor.public_key_pem,
        },
    }


def note_object(origin: str, *, lg_code: str, note: Note) -> dict:
    content_map = {
        code: note.content[code] for code in CONTENT_MAP_LANGUAGES if note.content.get(code)
    }
    document = {
        "id": note_url(origin, lg_code, note.object_key),
        "type": "Note",
        "attributedTo": actor_url(origin, lg_code),
        "content": note.content["ja"],
        "contentMap": content_map,
        "url": note.url,
        "published": note.published.isoformat(),
        "to": [PUBLIC],
        "cc": [followers_url(origin, lg_code)],
        "sensitive": False,
    }
    if note.summary:
        document["summary"] = note.summary
    if note.updated:
        document["updated"] = note.updated.isoformat()
    return document


def create_activity(origin: str, *, lg_code: str, note: Note) -> dict:
    obj = note_object(origin, lg_code=lg_code, note=note)
    return {
        "@context": AS_CONTEXT,
        "id": obj["id"] + "/activity",
        "type": "Create",
        "actor": obj["attributedTo"],
        "published": obj["published"],
        "to": obj["to"],
        "cc": obj["cc"],
        "object": obj,
    }


def update_activity(origin: str, *, lg_code: str, note: Note) -> dict:
    """The Note as it now is. Mastodon shows an edit only when ``updated`` is later
    than what it holds, so the id carries that moment (each edit is its own activity)."""
    obj = note_object(origin, lg_code=lg_code, note=note)
    return {
        "@context": AS_CONTEXT,
        "id": f"{obj['id']}#updates/{int(note.updated.timestamp())}",
        "type": "Update",
        "actor": obj["attributedTo"],
        "published": obj["updated"],
        "to": obj["to"],
        "cc": obj["cc"],
        "object": obj,
    }


def tombstone(origin: str, *, lg_code: str, note: Note) -> dict:
    data = {
        "id": note_url(origin, lg_code, note.object_key),
        "type": "Tombstone",
        "formerType": "Note",
        "atomUri": note_url(origin, lg_code, note.object_key),
    }
    if note.deleted_at:
        data["deleted"] = note.deleted_at.isoformat()
    return data


def delete_activity(origin: str, *, lg_code: str, note: Note) -> dict:
    """A ``Delete`` whose object is the Tombstone, as Mastodon sends and expects."""
    obj = tombstone(origin, lg_code=lg_code, note=note)
    return {
        "@context": AS_CONTEXT,
        "id": obj["id"] + "#delete",
        "type": "Delete",
        "actor": actor_url(origin, lg_code),
        "to": [PUBLIC],
        "cc": [followers_url(origin, lg_code)],
        "object": obj,
    }
