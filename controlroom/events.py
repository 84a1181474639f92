"""The canonical event: the one format every feed is translated into (public contract).

Platform adapters, the simulator and replays all produce exactly these. Extra fields
are kept (stored with the event) but ignored by controlroom.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# Unix milliseconds between 2001-09-09 and 2286-11-20: a value in seconds falls
# outside and is refused with a message that says so.
_MIN_TS_MS = 1_000_000_000_000
_MAX_TS_MS = 9_999_999_999_999

Text = Annotated[str, Field(max_length=2000)]
Ident = Annotated[str, Field(min_length=1, max_length=128)]


class User(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Ident
    name: Annotated[str, Field(max_length=200)] | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Ident = Field(description="The source's message id; duplicates in a room are dropped.")
    ts: int = Field(
        ge=_MIN_TS_MS,
        le=_MAX_TS_MS,
        description="Event time in Unix milliseconds (not seconds).",
    )
    source: Annotated[str, Field(max_length=32)] | None = Field(
        default=None, description="douyin, doudian, kuaishou, sim, replay, …"
    )


class Comment(_Event):
    type: Literal["comment"]
    user: User
    text: Text


class Like(_Event):
    type: Literal["like"]
    user: User
    count: int = Field(default=1, ge=1, le=1_000_000)


class Gift(_Event):
    type: Literal["gift"]
    user: User
    gift: Annotated[str, Field(max_length=200)]
    count: int = Field(default=1, ge=1, le=1_000_000)
    value_cents: int = Field(ge=0, description="Total value of the gifts, in cents (fen).")


class Viewers(_Event):
    type: Literal["viewers"]
    online: int = Field(ge=0, description="Concurrent viewers as the platform reports it.")
    total: int | None = Field(default=None, ge=0, description="Cumulative viewers, if known.")


class Enter(_Event):
    type: Literal["enter"]
    user: User


class Follow(_Event):
    type: Literal["follow"]
    user: User


class Share(_Event):
    type: Literal["share"]
    user: User


class FansClub(_Event):
    type: Literal["fansclub"]
    user: User
    level: int | None = Field(default=None, ge=0)
    joined: bool = False


class ProductClick(_Event):
    type: Literal["product_click"]
    user: User
    sku: Ident


class Order(_Event):
    type: Literal["order"]
    user: User
    order_id: Ident
    status: Literal["created", "paid", "cancelled", "refunded"]
    sku: Ident | None = None
    quantity: int = Field(default=1, ge=1)
    amount_cents: int = Field(ge=0, description="Order amount in cents (fen).")


class Stream(_Event):
    type: Literal["stream"]
    status: Literal["live", "interrupted", "ended"]
    latency_ms: int | None = Field(default=None, ge=0)


Event = Annotated[
    Union[Comment, Like, Gift, Viewers, Enter, Follow, Share, FansClub, ProductClick, Order, Stream],
    Field(discriminator="type"),
]

EVENT_TYPES = (
    "comment", "like", "gift", "viewers", "enter", "follow",
    "share", "fansclub", "product_click", "order", "stream",
)

event_adapter: TypeAdapter[Any] = TypeAdapter(Event)
