"""A2E ("AI Avatar API", https://video.a2e.ai): the ``/api/v1/...`` endpoints.

Catalog: shared/research/a2e-api.md; contract: contracts/a2e/openapi.yaml; what is served of
the catalog: contracts/a2e/COVERAGE.md (``python contracts/a2e/coverage.py``).

Rooms: ``provider`` (the Provider, every slot named), ``auth`` (who a bearer acts for),
``dialect`` (the envelope and a table of refusals), ``models`` (pure renderers of records),
``tasks`` (the caller's tasks in the store: lookups, lists, pages), ``families`` (the task
families, declared) bound by ``task_endpoints`` (the generic handlers), ``stores`` (typed
state), ``billing`` (coins, diamonds, quotes), ``public_lists`` (fixed lists), ``webhooks``,
and one handler module per group of special endpoints: ``tokens`` (§2), ``voice`` (§3),
``video`` (§4), ``avatar`` (§4.3, §4.5, §5), ``background`` (§6), ``faceimage`` (§7),
``streaming`` (§11), ``user``/``storage`` (§12), ``r2``/``accounting`` (§13). Each module's
docstring lists the choices it makes where the catalog is silent, tagged [guess] or [inf].
"""

from __future__ import annotations

from mockserver.providers.a2e.provider import provider

__all__ = ["provider"]
