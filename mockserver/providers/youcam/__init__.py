"""YouCam (Perfect Corp) server-to-server API: ``/s2s/v1.0``, ``/s2s/v2.0``, ``/s2s/v2.1``.

Catalog: shared/research/youcam-s2s-api.md. Envelope ``{"status": 200, "data": {...}}``;
task states ``running -> success | error``; units charged on success only; a running task not
polled within the polling window is gone (``InvalidTaskId``). Every AI feature is a row of
features.yaml; the handlers are generic and bound per row.

Rooms: ``provider`` (the Provider, every slot named), ``auth`` (keys, access tokens, headers),
``dialect`` (refusals and the envelope), ``models`` (records) and ``stores`` (where they are
kept), ``families`` (task vocabularies and their configs), ``tasks`` (run, poll, delete, the
polling window), and one module per special endpoint group: ``clientauth``, ``files``,
``templates``, ``units``, ``webhooks``.
"""

from __future__ import annotations

from mockserver.providers.youcam import provider  # noqa: F401  (registers YouCam)
