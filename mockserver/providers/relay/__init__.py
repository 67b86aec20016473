"""Avatar relay (new-api style gateway in front of DreamFace talking avatars): ``/avatar/...``.

Catalog: shared/research/avatar-relay-api.md; seed 001. Envelope
``{"code": "success", "message": "", "data": ...}``; task states
``NOT_START -> SUBMITTED -> QUEUED -> IN_PROGRESS -> SUCCESS | FAILURE``; quota taken at submit
and given back when a task fails.

Rooms: provider.py (the Provider), dialect.py (refusals), models.py (renderers), families.py
(FamilySpec declarations), handlers.py (the generic task handlers), bodies.py (what a submit
body means), webhooks.py (notify_hook), voices.py (the one special endpoint); videos.py
(OpenAI's video object on /v1/videos) and openai_dialect.py (the envelope those routes refuse
in, named ``openai`` in Provider.dialects).
"""

from mockserver.providers.relay import families, voices
from mockserver.providers.relay.provider import provider

__all__ = ["families", "provider", "voices"]
