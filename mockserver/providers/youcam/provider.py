"""The YouCam Provider, every slot named: what YouCam supplies to the core, in one place."""

from __future__ import annotations

from mockserver.providers.youcam import (  # noqa: F401  (handlers)
    auth,
    clientauth,
    families,
    files,
    tasks,
    templates,
    units,
    webhooks,
)
from mockserver.providers.youcam.dialect import YouCamDialect
from mockserver.providers.youcam.routes import HANDLERS
from mockserver.providers.youcam.stores import STORES
from mockserver.registry import Provider, register_provider

PROVIDER = register_provider(
    Provider(
        name="youcam",
        path_prefixes=("/s2s/",),
        dialect=YouCamDialect(),
        authenticate=auth.authenticate,
        response_headers=auth.response_headers,
        webhooks=webhooks.PLANNER,
        # the mock's own PUT target for presigned uploads (files.py)
        extra_routes=files.setup_upload_route,
        stores=STORES,
        configure=families.configure,
        # one generic run and status handler per declared family (families.SPECS)
        bind_family=tasks.bind,
        # a refused poll still counts for the polling window
        on_refused=tasks.touch_polled,
        handlers=HANDLERS,
    )
)
for _spec in families.SPECS:
    PROVIDER.declare(_spec)
