"""A ``multipart/form-data`` body as the dict its form schema checks.

Some operations take a form beside (or instead of) JSON: OpenAI's ``POST /v1/videos`` sends
``input_reference`` as a file part. Text parts become strings; a file part becomes its file
name (the mock keeps no upload bytes), which the form schema's ``format: binary`` string
accepts and a reader tells apart from JSON's object form. The first part of a name wins. A
body that is not a form, not UTF-8 or over the size limit is refused in the operation's
dialect, never a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

if TYPE_CHECKING:
    from mockserver.context import RequestContext

UNNAMED_FILE = "upload"  # a file part that gives no file name


async def read_form(ctx: RequestContext) -> dict[str, Any]:
    """The form's fields; refuses with ``too_large`` or ``invalid_json`` (not a form)."""
    try:
        form = await ctx.request.post()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ctx.error(
            "too_large", f"request body over {ctx.state.scenario.max_body_bytes} bytes"
        ) from exc
    except (ValueError, AssertionError, LookupError, HttpProcessingError) as exc:
        # no boundary, a part header that is not one, bytes not UTF-8, an unknown charset
        raise ctx.error("invalid_json", f"the multipart body cannot be read: {exc}") from None
    fields: dict[str, Any] = {}
    for name, value in form.items():
        if name in fields:
            continue
        if isinstance(value, web.FileField):
            value.file.close()
            fields[name] = value.filename or UNNAMED_FILE
        else:
            fields[name] = str(value)
    return fields
