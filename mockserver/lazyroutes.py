"""Templated routes whose regular expression is compiled on the first match, not at start-up.

aiohttp compiles one regular expression per templated path as the route is added: ~135 of
them over the three contracts, about half of ``create_app``, for paths a session may never
call. A :class:`LazyResource` is aiohttp's ``DynamicResource`` with the same pattern text and
formatter (tests/test_startup.py compares them route by route), its regex compiled the first
time a request path is matched against it. Only plain templates take this path (literal
parts of unreserved characters, ``{name}`` placeholders without a regex of their own), for
which aiohttp's quoting changes nothing; any other path is added by aiohttp as usual.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from aiohttp import hdrs, web

_PLACEHOLDER = re.compile(r"\{([_a-zA-Z][_a-zA-Z0-9]*)\}")
_PLAIN = re.compile(r"(?:[A-Za-z0-9._~/-]|\{[_a-zA-Z][_a-zA-Z0-9]*\})+")


def _parts(path: str) -> tuple[str, str] | None:
    """(pattern, formatter) as ``DynamicResource`` builds them, or None: not a plain template."""
    if "{" not in path or not path.startswith("/") or _PLAIN.fullmatch(path) is None:
        return None
    pattern = formatter = ""
    for i, part in enumerate(_PLACEHOLDER.split(path)):
        if i % 2:  # a placeholder's name
            pattern += f"(?P<{part}>{web.DynamicResource.GOOD})"
            formatter += "{" + part + "}"
        else:
            pattern += re.escape(part)
            formatter += part
    return pattern, formatter


class LazyResource(web.DynamicResource):
    """A ``DynamicResource`` that compiles its pattern when first asked for it."""

    def __init__(self, path: str, pattern: str, formatter: str) -> None:
        web.Resource.__init__(self)  # not DynamicResource's: that compiles the pattern
        self._orig_path = path
        self._source = pattern
        self._formatter = formatter

    @cached_property
    def _pattern(self) -> re.Pattern[str]:  # type: ignore[override]
        # Stored on the instance once compiled: later matches read a plain attribute.
        return re.compile(self._source)

    def add_prefix(self, prefix: str) -> None:
        """As ``DynamicResource.add_prefix`` (a sub-application's mount point), uncompiled."""
        assert prefix.startswith("/") and not prefix.endswith("/") and len(prefix) > 1
        self._source = re.escape(prefix) + self._source
        self._formatter = prefix + self._formatter
        self.__dict__.pop("_pattern", None)


class RouteAdder:
    """``router.add_route`` for a run of routes, templated ones as :class:`LazyResource`.

    Like aiohttp's, a route whose path is the last one added joins that resource; a path
    seen earlier but not last gets a resource of its own, as it would from aiohttp.
    """

    def __init__(self, router: web.UrlDispatcher) -> None:
        self._router = router
        self._last: LazyResource | None = None

    def add(self, method: str, path: str, handler: Any) -> web.AbstractRoute:
        resource = self._resource(path)
        if resource is None:
            return self._router.add_route(method, path, handler)
        return resource.add_route(method, handler)

    def add_get(self, path: str, handler: Any) -> web.AbstractRoute:
        """GET, and HEAD beside it, as ``router.add_get`` adds them."""
        resource = self._resource(path)
        if resource is None:
            return self._router.add_get(path, handler)
        resource.add_route(hdrs.METH_HEAD, handler)
        return resource.add_route(hdrs.METH_GET, handler)

    def _resource(self, path: str) -> LazyResource | None:
        """The resource a route on ``path`` joins; None: aiohttp's to add."""
        parts = _parts(path)
        if parts is None:
            self._last = None
            return None
        resource = self._last
        if resource is None or resource._orig_path != path:
            resource = LazyResource(path, *parts)
            self._router.register_resource(resource)
            self._last = resource
        return resource
