"""A task family as one declaration: vocabulary, renderer, price, operations, id and lookup.

A :class:`FamilySpec` says everything that differs between two task families of a provider;
the provider's ``bind_family`` (one generic set of handlers per dialect) reads it and binds a
handler to each operationId it names. Adding a family is a spec entry in the provider's
OpenAPI document plus one ``FamilySpec``; no handler is copied.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.context import RequestContext, View
    from mockserver.lifecycle import TaskFamily
    from mockserver.tasks import Task

Row = dict[str, Any]
# A pure renderer: one task as the provider shows it at ``view.now``. Knows no request.
Render = Callable[["Task", "View"], Row]
# What a submit costs, from the request: a callable of (ctx, body), or a constant.
Cost = float
PriceRule = Callable[["RequestContext", Mapping[str, Any]], Cost]


class Lookup(enum.Enum):
    """Where a status, delete or detail request names its task."""

    PATH = "path"  # /{_id}: the path parameter
    QUERY = "query"  # ?_id=: a query parameter
    BODY = "body"  # {"_id": ...} in the JSON body
    STATUS_LIST = "status_list"  # ?_id= picks one, else the newest of the family


class IdStyle(enum.Enum):
    """How a new task's id looks, drawn from the provider's seeded id stream."""

    HEX24 = "hex24"  # a Mongo-style ObjectId: 24 lowercase hex digits
    HEX32 = "hex32"
    UUID4 = "uuid4"
    URLSAFE64 = "urlsafe64"  # 64 URL-safe base64 characters (YouCam's task ids)


@dataclass(frozen=True)
class Status:
    """One status operation and where it finds the task."""

    operation_id: str
    lookup: Lookup = Lookup.PATH
    id_field: str = "_id"


@dataclass(frozen=True)
class FamilySpec:
    """One task family of a provider, declared.

    ``family`` is the lifecycle vocabulary (working states, success, failure);
    ``failure_fields`` the names the rows use for a failure's texts. ``price`` is a
    :data:`PriceRule` or a constant ``Cost``. Operations left ``None`` are not served.
    ``options`` carries what only this provider's binder reads (a default failure message,
    a result fixture).
    """

    family: TaskFamily
    render: Render
    submit: str
    status: tuple[Status, ...] = ()
    list_all: str | None = None
    delete: Status | None = None
    batch: str | None = None
    processing: str | None = None
    price: PriceRule | Cost = 0
    new_id: IdStyle = IdStyle.HEX24
    failure_fields: tuple[str, ...] = ("failed_message", "failed_code")
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.family.name

    def cost(self, ctx: RequestContext, body: Mapping[str, Any]) -> Cost:
        price = self.price
        return price(ctx, body) if callable(price) else price

    def operation_ids(self) -> list[str]:
        """Every operationId this family serves."""
        ids = [self.submit, *(s.operation_id for s in self.status)]
        ids += [op for op in (self.list_all, self.batch, self.processing) if op is not None]
        if self.delete is not None:
            ids.append(self.delete.operation_id)
        return ids
