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

# Every number of the contract has a plausible range (README: "Ranges"). Strict: a
# boolean or a string is not a number, and a value outside its range is refused with
# its reason rather than stored, since one absurd total would poison the room's
# numbers and the SQL archive (which holds signed 64-bit integers).
MAX_COUNT = 1_000_000  # likes or gifts in one event
MAX_AMOUNT_CENTS = 10_000_000_000  # ¥100,000,000 in one order or one gift event
MAX_ONLINE = 100_000_000  # concurrent viewers
MAX_TOTAL_VIEWERS = 10_000_000_000  # cumulative viewers of a room
MAX_QUANTITY = 100_000  # items in one order
MAX_LATENCY_MS = 3_600_000  # an hour of stream latency
MAX_FANS_LEVEL = 1_000
MAX_STOCK = 100_000_000  # units of one product on the shelf
MAX_BITRATE_KBPS = 10_000_000  # 10 Gbit/s: far above any live stream


def _number(low: int, high: int, description: str, **extra: Any) -> Any:
    return Field(ge=low, le=high, strict=True, description=f"{description} ({low:,}–{high:,})", **extra)


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
        strict=True,
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
    count: int = _number(1, MAX_COUNT, "Likes in this event", default=1)


class Gift(_Event):
    type: Literal["gift"]
    user: User
    gift: Annotated[str, Field(max_length=200)]
    count: int = _number(1, MAX_COUNT, "Gifts in this event", default=1)
    value_cents: int = _number(0, MAX_AMOUNT_CENTS, "Total value of the gifts, in cents (fen)")


# Where viewers came from, as platform dashboards split traffic (流量结构): the
# recommendation feed (推荐), follows (关注), search (搜索), short videos (短视频引流),
# paid promotion (付费/千川/磁力金牛), private domain and shares (私域/分享), other.
TRAFFIC_CHANNELS = ("recommend", "follow", "search", "short_video", "paid", "private", "other")
Channel = Literal["recommend", "follow", "search", "short_video", "paid", "private", "other"]


class Viewers(_Event):
    type: Literal["viewers"]
    online: int = _number(0, MAX_ONLINE, "Concurrent viewers as the platform reports it")
    total: int | None = _number(0, MAX_TOTAL_VIEWERS, "Cumulative viewers, if known", default=None)
    # The reading stays the room's total; a platform that splits its traffic by source
    # sends the split beside it (a reading of one channel alone would hide the total).
    channels: dict[Channel, Annotated[int, Field(ge=0, le=MAX_ONLINE, strict=True)]] | None = Field(
        default=None, description="Viewers entered so far by source, as the platform's traffic structure reports it")


class Enter(_Event):
    type: Literal["enter"]
    user: User
    channel: Channel | None = Field(default=None, description="Where this viewer came from (traffic source)")


class Follow(_Event):
    type: Literal["follow"]
    user: User


class Share(_Event):
    type: Literal["share"]
    user: User


class FansClub(_Event):
    type: Literal["fansclub"]
    user: User
    level: int | None = _number(0, MAX_FANS_LEVEL, "Fans-club level", default=None)
    joined: bool = Field(default=False, strict=True)


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
    quantity: int = _number(1, MAX_QUANTITY, "Items in the order", default=1)
    amount_cents: int = _number(0, MAX_AMOUNT_CENTS, "Order amount in cents (fen)")


class Stream(_Event):
    type: Literal["stream"]
    status: Literal["live", "interrupted", "ended"]
    latency_ms: int | None = _number(0, MAX_LATENCY_MS, "Stream latency in milliseconds", default=None)
    # What an encoder (OBS) reports about its output; a platform feed leaves them out.
    dropped_share: float | None = Field(default=None, ge=0, le=1, description=(
        "Share of frames the encoder dropped or skipped over its last reading (0–1)"))
    bitrate_kbps: int | None = _number(0, MAX_BITRATE_KBPS, "Output bitrate in kbit/s", default=None)
    congestion: float | None = Field(default=None, ge=0, le=1, description="The encoder's output congestion (0–1)")


class Product(_Event):
    """A product's listing as the shop, the platform or the run-of-show reports it: what
    is left on the shelf, whether its link is live (上架), whether the host is presenting
    it (讲解中). A field left out keeps the value it had."""

    type: Literal["product"]
    sku: Ident
    name: Annotated[str, Field(max_length=200)] | None = None
    price_cents: int | None = _number(0, MAX_AMOUNT_CENTS, "Price in cents (fen)", default=None)
    stock: int | None = _number(0, MAX_STOCK, "Units left on the shelf", default=None)
    on_shelf: bool | None = Field(default=None, strict=True, description="The product's link is live (上架).")
    on_stage: bool | None = Field(default=None, strict=True, description="The host is presenting it now (讲解中).")


class Complaint(_Event):
    """A complaint filed with customer service or the platform (not a comment): counted
    with complaint comments in the complaint rate (SOP 9)."""

    type: Literal["complaint"]
    user: User | None = None
    order_id: Ident | None = None
    sku: Ident | None = None
    reason: Text | None = None


Event = Annotated[
    Union[Comment, Like, Gift, Viewers, Enter, Follow, Share, FansClub, ProductClick, Order, Stream, Product,
          Complaint],
    Field(discriminator="type"),
]

EVENT_TYPES = (
    "comment", "like", "gift", "viewers", "enter", "follow",
    "share", "fansclub", "product_click", "order", "stream", "product", "complaint",
)

event_adapter: TypeAdapter[Any] = TypeAdapter(Event)
