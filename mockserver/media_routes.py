"""GET /__media/{token}/{name}: result files behind signed, expiring links (no auth, like S3).

Only a link exactly as the mock made it is served, and only the fixture it names; every
answer says ``nosniff``, so a browser never reads a file as something else.
"""

from __future__ import annotations

from aiohttp import web

from mockserver.chaos import MEDIA, chaos_route
from mockserver.journal import journaled
from mockserver.keys import STATE_KEY
from mockserver.media import MEDIA_PREFIX, NOSNIFF, LinkError, content_type_for
from mockserver.resources import media_dir


@chaos_route(MEDIA)
async def serve_media(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token, name = request.match_info["token"], request.match_info["name"]
    try:
        fixture = state.links.resolve(token, name, state.clock.now())
    except LinkError as err:
        return err.response()
    response = web.FileResponse(media_dir() / fixture, headers=NOSNIFF)
    response.content_type = content_type_for(fixture)
    return response


def setup(app: web.Application) -> None:
    app.router.add_get(MEDIA_PREFIX + "/{token}/{name}", journaled(serve_media))
