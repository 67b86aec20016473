"""GET /__media/{token}/{name}: result files behind signed, expiring links (no auth, like S3)."""

from __future__ import annotations

from aiohttp import web

from mockserver.chaos import MEDIA, chaos_route
from mockserver.journal import journaled
from mockserver.keys import STATE_KEY
from mockserver.media import MEDIA_PREFIX, LinkError, content_type_for, s3_error
from mockserver.resources import media_dir


@chaos_route(MEDIA)
async def serve_media(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    try:
        fixture = state.links.resolve(request.match_info["token"], state.clock.now())
    except LinkError as err:
        return web.Response(
            status=err.status, text=s3_error(err.code, err.message), content_type="application/xml"
        )
    response = web.FileResponse(media_dir() / fixture)
    response.content_type = content_type_for(fixture)
    return response


def setup(app: web.Application) -> None:
    app.router.add_get(MEDIA_PREFIX + "/{token}/{name}", journaled(serve_media))
