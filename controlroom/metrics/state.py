"""A room's live state: pure code, fed canonical events, read with an injected clock.

The worker applies batches of events (already validated at ingest, as plain dicts) and
checkpoints `to_json()` together with the last applied stream id. Rates are counted in
per-second buckets of event time and read against the caller's clock, so a silent
room's comments/min falls to zero without any event arriving.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, MutableMapping, Sequence

import orjson

from controlroom.metrics.hotwords import words_of
from controlroom.metrics.questions import is_moderation, question_group

RATE_WINDOW_MS = 60_000
# Buckets older than this are dropped; a little more than the window so late events
# still count while they are inside it.
BUCKET_KEEP_MS = 2 * RATE_WINDOW_MS
# Kept for snapshots and pushes: at 10 pushes a second, up to 2,000 comments/s reach
# the screens one by one; past that (no person reads so fast) the feed samples.
RECENT_COMMENTS = 200
MINUTES_KEPT = 24 * 60

# Order status -> bit in the ledger, so an order is counted once per status.
ORDER_STATUS_BITS = {"created": 1, "paid": 2, "cancelled": 4, "refunded": 8}

# Columns of a per-minute row.
M_ONLINE, M_COMMENTS, M_LIKES, M_GMV, M_ENTERS, M_PAID, M_FOLLOWS, M_GIFTS, M_REFUNDS, M_WATCH = range(10)
MINUTE_COLUMNS = 10
# A gap between two viewer readings longer than this counts as this much watch time:
# a feed that went quiet must not credit an hour of viewing to the last reading.
MAX_READING_GAP_MS = 60_000

# Columns of a product row (per SKU).
P_CLICKS, P_ORDERS, P_GMV, P_REFUNDS, P_REFUND_CENTS, P_UNITS = range(6)
PRODUCT_COLUMNS = 6
# A show sells tens of SKUs; a feed that invents SKUs must not grow the state forever.
MAX_PRODUCTS = 500
# Units sold per product are kept per minute this long: the recent order rate that,
# against what is left, projects when a product sells out (SOP 14).
SOLD_WINDOW_MS = 10 * 60_000
SELL_RATE_WINDOW_MS = 5 * 60_000

# Hot words: counted per minute, read over the last five.
HOT_WORDS_WINDOW_MS = 5 * 60_000
# Per-minute entries by traffic source are kept for the 10-minute change (two windows and
# the current minute).
TRAFFIC_KEEP_MS = 21 * 60_000
# A minute's word counts are cut back to the top MAX_WORDS_PER_MINUTE whenever they
# reach twice that: bounded, amortised O(1) per word, and a new word always gets in.
MAX_WORDS_PER_MINUTE = 1000

# Hot questions keep the latest few questions of each group, cut to a readable length.
QUESTION_EXAMPLES = 3
MAX_QUESTION_EXAMPLE = 60

# Comments with moderation hits are counted per category in 10-second buckets (kept 15
# minutes) for the rules' keyword-rate conditions; "" counts all comments (for shares).
HIT_BUCKET_MS = 10_000
HIT_BUCKET_KEEP_MS = 15 * 60_000
ALL_COMMENTS = ""

# text -> [(start, end, category)] of the lexicon hits in it (offsets into the text),
# question-group words included (see controlroom/metrics/questions.py).
Tagger = Callable[[str], Sequence[tuple[int, int, str]]]

# Distinct users are kept as Redis sets written with the checkpoint (SADD is
# idempotent, so a batch applied twice after a crash still counts each user once).
INTERACTION_TYPES = {"comment", "like", "gift", "share", "follow"}
USER_SETS = ("viewers", "interacting", "likers", "clickers", "orderers", "payers")
# Also counted per minute (HyperLogLog in Redis, PFADD is idempotent too), so rates can
# be compared between the last ten minutes and the ten before.
WINDOWED_SETS = ("viewers", "interacting", "likers", "payers")


@dataclass
class BatchEffects:
    """What a batch changed besides the state itself, for the checkpoint to persist."""

    ledger: dict[str, int] = field(default_factory=dict)  # order id -> status bits
    users: dict[str, set[str]] = field(default_factory=lambda: {name: set() for name in USER_SETS})
    # (minute_ms, set name) -> user ids seen in that minute, for the windowed sets
    minute_users: dict[tuple[int, str], set[str]] = field(default_factory=dict)

    def add_user(self, kind: str, user_id: str, minute_ms: int) -> None:
        self.users[kind].add(user_id)
        if kind in WINDOWED_SETS:
            self.minute_users.setdefault((minute_ms, kind), set()).add(user_id)


@dataclass
class RoomState:
    online: int = 0
    peak_online: int = 0
    viewers_total: int = 0
    comments: int = 0
    likes: int = 0
    gifts: int = 0
    gift_value_cents: int = 0
    follows: int = 0
    shares: int = 0
    enters: int = 0
    fansclub_joins: int = 0
    product_clicks: int = 0
    orders_created: int = 0
    orders_paid: int = 0
    gmv_cents: int = 0
    orders_cancelled: int = 0
    refunds: int = 0
    refund_cents: int = 0
    stream_status: str | None = None
    latency_ms: int | None = None
    # The encoder's last reading of its output (None until an encoder reports).
    dropped_share: float | None = None
    bitrate_kbps: int | None = None
    events_applied: int = 0
    # When the show these numbers belong to started (ms; 0: none). Events from before it
    # (late pushes of the previous show) are not this show's.
    show_started_at: int = 0
    events_before_show: int = 0
    last_event_ts: int = 0
    comment_seq: int = 0
    # Event times of the readings that set online / stream status: the newest wins.
    online_ts: int = 0
    stream_ts: int = 0
    # event type -> newest event time ("*": any type), for the feed-silence rules
    last_seen: dict[str, int] = field(default_factory=dict)
    # moderation category -> comments that hit it, over the show
    category_hits: dict[str, int] = field(default_factory=dict)
    # 10-second bucket -> category -> hits ("" -> comments)
    hit_buckets: dict[int, dict[str, int]] = field(default_factory=dict)
    # Online viewers integrated over time (viewer-milliseconds): the average stay when
    # the platform sends no leave events.
    watch_ms: int = 0
    # second (ms, floored) -> count
    comment_buckets: dict[int, int] = field(default_factory=dict)
    like_buckets: dict[int, int] = field(default_factory=dict)
    # minute_ms -> [online (last seen), comments, likes, gmv_cents, enters, paid orders,
    #               follows, gift value, refund cents, watch ms]
    minutes: dict[int, list[int]] = field(default_factory=dict)
    # minute_ms -> word -> count, for the hot-words window
    word_minutes: dict[int, dict[str, int]] = field(default_factory=dict)
    # Traffic sources (流量结构): entries per channel over the show, per minute for the
    # 10-minute change and the rules, and the platform's own split (viewers.channels).
    traffic: dict[str, int] = field(default_factory=dict)
    traffic_minutes: dict[int, dict[str, int]] = field(default_factory=dict)
    platform_traffic: dict[str, int] = field(default_factory=dict)
    platform_traffic_ts: int = 0
    # minute_ms -> question group -> questions, for the hot-questions window
    question_minutes: dict[int, dict[str, int]] = field(default_factory=dict)
    # question group -> the latest questions asked (newest last)
    question_examples: dict[str, list[str]] = field(default_factory=dict)
    # sku -> [clicks, paid orders, gmv_cents, refunds, refund_cents, units sold]
    products: dict[str, list[int]] = field(default_factory=dict)
    # sku -> the listing as `product` events (shop, platform, run-of-show) last said it:
    # {name, price_cents, stock, stock_ts, on_shelf, on_stage, sold: [[minute_ms, units]]};
    # stock goes down with each paid order after the reading that set it.
    catalog: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Complaints filed through customer service or the platform (complaint events).
    complaints_filed: int = 0
    recent_comments: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=RECENT_COMMENTS)
    )

    # --- applying events -------------------------------------------------------------

    def apply(
        self, events: Iterable[dict[str, Any]], order_ledger: MutableMapping[str, int], tagger: Tagger | None = None
    ) -> BatchEffects:
        """Apply a batch. `order_ledger` maps order_id -> statuses already counted. The
        returned effects (ledger entries changed, users seen) are for the caller to
        persist with the checkpoint. `tagger` finds moderation hits in comments."""
        effects = BatchEffects()
        events = list(events)
        many = getattr(tagger, "many", None)
        if many is not None:
            # One automaton pass for the whole batch's comments (controlroom/moderation/live.py).
            found = iter(many([e["text"] for e in events if e["type"] == "comment"]))
            tagger = lambda _text: next(found)  # noqa: E731 - consumed in the same order
        for event in events:
            self._apply_one(event, order_ledger, effects, tagger)
        return effects

    def _apply_one(
        self, e: dict[str, Any], ledger: MutableMapping[str, int], effects: BatchEffects, tagger: Tagger | None
    ) -> None:
        kind = e["type"]
        ts = e["ts"]
        if ts < self.show_started_at:
            self.events_before_show += 1
            return
        self.events_applied += 1
        if ts > self.last_event_ts:
            self.last_event_ts = ts
        if ts > self.last_seen.get(kind, 0):
            self.last_seen[kind] = ts
            if ts > self.last_seen.get("*", 0):
                self.last_seen["*"] = ts
        minute = self._minute(ts)
        minute_ms = ts - ts % 60_000
        user = e.get("user")
        if user is not None:
            effects.add_user("viewers", user["id"], minute_ms)
            if kind in INTERACTION_TYPES:
                effects.add_user("interacting", user["id"], minute_ms)
        if kind == "comment":
            self.comments += 1
            self.comment_seq += 1
            _bump(self.comment_buckets, ts - ts % 1000, 1)
            minute[M_COMMENTS] += 1
            self._count_words(ts, e["text"])
            tagged = tagger(e["text"]) if tagger else []
            hits = [list(hit) for hit in tagged if is_moderation(hit[2])]
            self._count_hits(ts, hits)
            group = question_group(e["text"], [hit[2] for hit in tagged])
            if group is not None:
                self._count_question(ts, group, e["text"])
            self.recent_comments.append(
                {
                    "seq": self.comment_seq,
                    "ts": ts,
                    "user_id": user["id"],
                    "name": user.get("name") or user["id"],
                    "text": e["text"],
                    "hits": hits,
                }
            )
        elif kind == "like":
            count = e.get("count", 1)
            self.likes += count
            effects.add_user("likers", user["id"], minute_ms)
            _bump(self.like_buckets, ts - ts % 1000, count)
            minute[M_LIKES] += count
        elif kind == "viewers":
            # Viewer counts arrive out of order now and then; the newest reading wins.
            if ts >= self.online_ts:
                if self.online_ts:
                    watched = self.online * min(ts - self.online_ts, MAX_READING_GAP_MS)
                    self.watch_ms += watched
                    minute[M_WATCH] += watched
                self.online_ts = ts
                self.online = e["online"]
                minute[M_ONLINE] = e["online"]
            self.peak_online = max(self.peak_online, e["online"])
            if e.get("total") is not None:
                self.viewers_total = max(self.viewers_total, e["total"])
            if e.get("channels") and ts >= self.platform_traffic_ts:
                self.platform_traffic_ts = ts
                self.platform_traffic = dict(e["channels"])
        elif kind == "gift":
            self.gifts += e.get("count", 1)
            self.gift_value_cents += e["value_cents"]
            minute[M_GIFTS] += e["value_cents"]
        elif kind == "follow":
            self.follows += 1
            minute[M_FOLLOWS] += 1
        elif kind == "share":
            self.shares += 1
        elif kind == "enter":
            self.enters += 1
            minute[M_ENTERS] += 1
            channel = e.get("channel")
            if channel:
                self.traffic[channel] = self.traffic.get(channel, 0) + 1
                counts = self.traffic_minutes.setdefault(ts - ts % 60_000, {})
                counts[channel] = counts.get(channel, 0) + 1
        elif kind == "fansclub":
            if e.get("joined"):
                self.fansclub_joins += 1
        elif kind == "product_click":
            self.product_clicks += 1
            effects.add_user("clickers", user["id"], minute_ms)
            self._bump_product(e["sku"], P_CLICKS, 1)
        elif kind == "order":
            self._apply_order(e, minute, minute_ms, ledger, effects)
        elif kind == "product":
            self._apply_product(e, ts)
        elif kind == "complaint":
            # Counted with complaint comments: the complaint rate (SOP 9) is both.
            self.complaints_filed += 1
            self.category_hits["complaint"] = self.category_hits.get("complaint", 0) + 1
        elif kind == "stream":
            if ts >= self.stream_ts:
                self.stream_ts = ts
                self.stream_status = e["status"]
                for name in ("latency_ms", "dropped_share", "bitrate_kbps"):
                    if e.get(name) is not None:
                        setattr(self, name, e[name])

    def _apply_order(
        self, e: dict[str, Any], minute: list[int], minute_ms: int, ledger: MutableMapping[str, int],
        effects: BatchEffects,
    ) -> None:
        order_id, status = e["order_id"], e["status"]
        bit = ORDER_STATUS_BITS[status]
        seen = ledger.get(order_id, 0)
        if seen & bit:
            return
        ledger[order_id] = effects.ledger[order_id] = seen | bit
        amount = e["amount_cents"]
        if status == "created":
            self.orders_created += 1
            effects.add_user("orderers", e["user"]["id"], minute_ms)
        elif status == "paid":
            self.orders_paid += 1
            self.gmv_cents += amount
            minute[M_GMV] += amount
            minute[M_PAID] += 1
            effects.add_user("payers", e["user"]["id"], minute_ms)
            if e.get("sku"):
                self._bump_product(e["sku"], P_ORDERS, 1)
                self._bump_product(e["sku"], P_GMV, amount)
                self._bump_product(e["sku"], P_UNITS, e.get("quantity", 1))
                self._sold(e["sku"], e.get("quantity", 1), e["ts"])
        elif status == "cancelled":
            self.orders_cancelled += 1
        elif status == "refunded":
            self.refunds += 1
            self.refund_cents += amount
            minute[M_REFUNDS] += amount
            if e.get("sku"):  # refund pushes often carry no product
                self._bump_product(e["sku"], P_REFUNDS, 1)
                self._bump_product(e["sku"], P_REFUND_CENTS, amount)

    def _count_words(self, ts: int, text: str) -> None:
        key = ts - ts % 60_000
        counts = self.word_minutes.get(key)
        if counts is None:
            counts = self.word_minutes[key] = {}
        for word in words_of(text):
            counts[word] = counts.get(word, 0) + 1
        if len(counts) >= 2 * MAX_WORDS_PER_MINUTE:
            keep = sorted(counts.items(), key=lambda item: -item[1])[:MAX_WORDS_PER_MINUTE]
            counts.clear()
            counts.update(keep)

    def _count_question(self, ts: int, group: str, text: str) -> None:
        counts = self.question_minutes.setdefault(ts - ts % 60_000, {})
        counts[group] = counts.get(group, 0) + 1
        examples = self.question_examples.setdefault(group, [])
        examples.append(text[:MAX_QUESTION_EXAMPLE])
        del examples[:-QUESTION_EXAMPLES]

    def _count_hits(self, ts: int, hits: list[list]) -> None:
        bucket_key = ts - ts % HIT_BUCKET_MS
        bucket = self.hit_buckets.get(bucket_key)
        if bucket is None:
            bucket = self.hit_buckets[bucket_key] = {}
        bucket[ALL_COMMENTS] = bucket.get(ALL_COMMENTS, 0) + 1
        # A comment counts once per category it hits ("打315投诉你们" is one complaint),
        # so shares stay shares and complaint rates count complaints, not words.
        for category in {category for _start, _end, category in hits}:
            bucket[category] = bucket.get(category, 0) + 1
            self.category_hits[category] = self.category_hits.get(category, 0) + 1

    def _bump_product(self, sku: str, column: int, by: int) -> None:
        row = self.products.get(sku)
        if row is None:
            if len(self.products) >= MAX_PRODUCTS:
                return
            row = self.products[sku] = [0] * PRODUCT_COLUMNS
        row[column] += by

    def _listing(self, sku: str) -> dict[str, Any] | None:
        entry = self.catalog.get(sku)
        if entry is None and len(self.catalog) < MAX_PRODUCTS:
            entry = self.catalog[sku] = {"name": None, "price_cents": None, "stock": None, "stock_ts": 0,
                                         "on_shelf": None, "on_stage": False, "sold": []}
        return entry

    def _apply_product(self, e: dict[str, Any], ts: int) -> None:
        entry = self._listing(e["sku"])
        if entry is None:
            return
        for name in ("name", "price_cents", "on_shelf"):
            if e.get(name) is not None:
                entry[name] = e[name]
        if e.get("stock") is not None and ts >= entry["stock_ts"]:
            entry["stock"], entry["stock_ts"] = e["stock"], ts
        if e.get("on_stage") is not None:
            if e["on_stage"]:  # one product is presented at a time
                for other in self.catalog.values():
                    other["on_stage"] = False
                entry["on_stage_ts"] = ts
            entry["on_stage"] = e["on_stage"]

    def _sold(self, sku: str, units: int, ts: int) -> None:
        entry = self._listing(sku)
        if entry is None:
            return
        if entry["stock"] is not None and ts >= entry["stock_ts"]:
            entry["stock"] = max(0, entry["stock"] - units)
        minute = ts - ts % 60_000
        sold = entry["sold"]
        if sold and sold[-1][0] == minute:
            sold[-1][1] += units
        else:
            sold.append([minute, units])
            sold.sort()
            del sold[: max(0, len(sold) - SOLD_WINDOW_MS // 60_000 - 1)]

    def stock_outlook(self, now_ms: int, planned: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
        """Per product whose stock is known: what is left, units sold a minute lately, and
        the minutes until it sells out at that rate (None: not selling). Stock is known
        from the newest `product` reading (less what sold after it) or, before any, from
        the run-of-show's planned stock (`planned`, sku -> units) less what this show sold."""
        first = now_ms - now_ms % 60_000 - (SELL_RATE_WINDOW_MS - 60_000)  # this minute and the 4 before
        outlook = {}
        for sku in set(self.catalog) | set(planned or {}):
            entry = self.catalog.get(sku)
            if entry is not None and entry["stock"] is not None:
                stock = entry["stock"]
            elif planned and planned.get(sku) is not None:
                stock = max(0, planned[sku] - self.products.get(sku, [0] * PRODUCT_COLUMNS)[P_UNITS])
            else:
                continue
            sold = entry["sold"] if entry else []
            # Over the time it has been selling within the window (this minute so far
            # and the 4 before): a product that went on sale two minutes ago sells at its
            # two minutes' rate, not at two fifths of it, and no estimate dips when a
            # new minute begins.
            units = sum(units for minute, units in sold if minute >= first)
            selling_since = max([first, *(minute for minute, _ in sold[:1])])
            per_min = units / max(1.0, (now_ms - selling_since) / 60_000) if units else 0.0
            outlook[sku] = {"stock": stock, "per_min": per_min,
                            "on_shelf": entry is None or entry["on_shelf"] is not False,
                            "minutes_left": stock / per_min if per_min else None}
        return outlook

    def _minute(self, ts: int) -> list[int]:
        key = ts - ts % 60_000
        bucket = self.minutes.get(key)
        if bucket is None:
            bucket = self.minutes[key] = [self._last_online_before(key)] + [0] * (MINUTE_COLUMNS - 1)
            if len(self.minutes) > MINUTES_KEPT:
                del self.minutes[min(self.minutes)]
        return bucket

    def _last_online_before(self, minute_key: int) -> int:
        earlier = [k for k in self.minutes if k < minute_key]
        return self.minutes[max(earlier)][0] if earlier else self.online

    # --- reading ---------------------------------------------------------------------

    def prune(self, now_ms: int) -> None:
        horizon = now_ms - BUCKET_KEEP_MS
        for buckets in (self.comment_buckets, self.like_buckets):
            for second in [s for s in buckets if s < horizon]:
                del buckets[second]
        for bucket in [b for b in self.hit_buckets if b < now_ms - HIT_BUCKET_KEEP_MS]:
            del self.hit_buckets[bucket]
        word_horizon = now_ms - HOT_WORDS_WINDOW_MS - 60_000
        for minutes in (self.word_minutes, self.question_minutes):
            for minute in [m for m in minutes if m < word_horizon]:
                del minutes[minute]
        traffic_horizon = now_ms - TRAFFIC_KEEP_MS
        for minute in [m for m in self.traffic_minutes if m < traffic_horizon]:
            del self.traffic_minutes[minute]

    def traffic_window(self, start_ms: int, end_ms: int) -> dict[str, int]:
        """Entries by traffic source over [start, end) (minute starts)."""
        totals: dict[str, int] = {}
        for minute, counts in self.traffic_minutes.items():
            if start_ms <= minute < end_ms:
                for channel, count in counts.items():
                    totals[channel] = totals.get(channel, 0) + count
        return totals

    def hot_words(self, now_ms: int, limit: int = 20) -> list[tuple[str, int]]:
        """The most said words of the last five minutes, with counts."""
        totals: dict[str, int] = {}
        # The five minute buckets up to and including the current one.
        current = now_ms - now_ms % 60_000
        for minute, counts in self.word_minutes.items():
            if current - HOT_WORDS_WINDOW_MS < minute <= current:
                for word, count in counts.items():
                    totals[word] = totals.get(word, 0) + count
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]

    def hot_questions(self, now_ms: int) -> list[tuple[str, int, list[str]]]:
        """Question groups of the last five minutes, most asked first, with the latest
        questions of each (newest first)."""
        totals: dict[str, int] = {}
        current = now_ms - now_ms % 60_000
        for minute, counts in self.question_minutes.items():
            if current - HOT_WORDS_WINDOW_MS < minute <= current:
                for group, count in counts.items():
                    totals[group] = totals.get(group, 0) + count
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        return [(group, count, list(reversed(self.question_examples.get(group, [])))) for group, count in ranked]

    def comments_per_min(self, now_ms: int) -> int:
        return _window_sum(self.comment_buckets, now_ms)

    def likes_per_min(self, now_ms: int) -> int:
        return _window_sum(self.like_buckets, now_ms)

    def minute_window(self, column: int, start_ms: int, end_ms: int, *, average: bool = False) -> float:
        """Sum (or average, for online) of a per-minute column over [start, end)."""
        values = [row[column] for minute, row in self.minutes.items() if start_ms <= minute < end_ms]
        if average:
            return sum(values) / len(values) if values else 0.0
        return float(sum(values))

    def within_sql_range(self) -> bool:
        """Every total still fits the archive's signed 64-bit integers. The headline
        totals bound everything else (a minute's or a product's sum of non-negative
        amounts never exceeds the show's total), so checking them is enough, and cheap
        enough for every batch."""
        return all(not isinstance(n, int) or -SQL_INT_MAX <= n <= SQL_INT_MAX
                   for n in (getattr(self, name) for name in _SCALARS))

    # --- checkpointing ---------------------------------------------------------------

    def to_json(self) -> bytes:
        data = {name: getattr(self, name) for name in _SCALARS}
        data["comment_buckets"] = list(self.comment_buckets.items())
        data["like_buckets"] = list(self.like_buckets.items())
        data["minutes"] = [[k, *v] for k, v in self.minutes.items()]
        data["products"] = self.products
        data["word_minutes"] = [[minute, counts] for minute, counts in self.word_minutes.items()]
        data["traffic_minutes"] = [[minute, counts] for minute, counts in self.traffic_minutes.items()]
        data["hit_buckets"] = [[bucket, counts] for bucket, counts in self.hit_buckets.items()]
        data["question_minutes"] = [[minute, counts] for minute, counts in self.question_minutes.items()]
        data["recent_comments"] = list(self.recent_comments)
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> "RoomState":
        state = cls()
        if not raw:
            return state
        data = orjson.loads(raw)
        for name in _SCALARS:
            if name in data:
                setattr(state, name, data[name])
        state.comment_buckets = {int(k): v for k, v in data.get("comment_buckets", [])}
        state.like_buckets = {int(k): v for k, v in data.get("like_buckets", [])}
        # Rows written by an older version have fewer columns: pad them.
        state.minutes = {
            int(row[0]): list(row[1:]) + [0] * (MINUTE_COLUMNS - len(row) + 1) for row in data.get("minutes", [])
        }
        state.products = {sku: list(row) + [0] * (PRODUCT_COLUMNS - len(row))
                          for sku, row in data.get("products", {}).items()}
        state.word_minutes = {int(minute): dict(counts) for minute, counts in data.get("word_minutes", [])}
        state.traffic_minutes = {int(minute): dict(counts) for minute, counts in data.get("traffic_minutes", [])}
        state.hit_buckets = {int(bucket): dict(counts) for bucket, counts in data.get("hit_buckets", [])}
        state.question_minutes = {int(minute): dict(counts) for minute, counts in data.get("question_minutes", [])}
        state.recent_comments.extend(data.get("recent_comments", []))
        return state


_SCALARS = [
    name
    for name, f in RoomState.__dataclass_fields__.items()
    if name not in {"comment_buckets", "like_buckets", "minutes", "products", "recent_comments", "word_minutes", "hit_buckets",
                    "traffic_minutes",
                    "question_minutes"}
]


def _bump(buckets: dict[int, int], key: int, by: int) -> None:
    buckets[key] = buckets.get(key, 0) + by


def _window_sum(buckets: dict[int, int], now_ms: int) -> int:
    start = now_ms - RATE_WINDOW_MS
    return sum(count for second, count in buckets.items() if start < second <= now_ms)


SQL_INT_MAX = 2**63 - 1


@dataclass
class IsolatedBatch:
    """A batch applied with the events that could not be applied left out."""

    state: RoomState
    ledger: dict[str, int]
    effects: BatchEffects
    # (event, why it was left out)
    refused: list[tuple[dict[str, Any], str]]


def apply_isolating(
    state_json: bytes | None, ledger: dict[str, int], events: list[dict[str, Any]], tagger: Tagger | None,
    *, refuse: Callable[[dict[str, Any]], str | None],
) -> IsolatedBatch:
    """Apply `events` to the state serialised in `state_json`, leaving out each event
    that `refuse` names a reason for, or that makes applying fail (bisecting, so a batch
    with one poison event costs about log2(n) re-applications). The worker falls back to
    this when a batch fails: no event can stop a room."""
    refused = []
    fit = []
    for event in events:
        reason = refuse(event)
        if reason is None:
            fit.append(event)
        else:
            refused.append((event, reason))
    state, ledger, effects, failed = _bisect(state_json, dict(ledger), fit, tagger)
    return IsolatedBatch(state, ledger, effects, refused + failed)


def _bisect(
    state_json: bytes | None, ledger: dict[str, int], events: list[dict[str, Any]], tagger: Tagger | None
) -> tuple[RoomState, dict[str, int], BatchEffects, list[tuple[dict[str, Any], str]]]:
    state, trial = RoomState.from_json(state_json), dict(ledger)
    try:
        effects = state.apply(events, trial, tagger)
        if not state.within_sql_range():
            raise OverflowError("a total would exceed the archive's 64-bit integers")
        state.to_json()
        return state, trial, effects, []
    except Exception as exc:  # noqa: BLE001 - whatever an event does, it is isolated
        if len(events) <= 1:
            return RoomState.from_json(state_json), ledger, BatchEffects(), [(e, f"{type(exc).__name__}: {exc}") for e in events]
    half = len(events) // 2
    state, ledger, first, failed_first = _bisect(state_json, ledger, events[:half], tagger)
    state, ledger, second, failed_second = _bisect(state.to_json(), ledger, events[half:], tagger)
    return state, ledger, _merge(first, second), failed_first + failed_second


def _merge(first: BatchEffects, second: BatchEffects) -> BatchEffects:
    merged = BatchEffects(ledger={**first.ledger, **second.ledger})
    for kind in USER_SETS:
        merged.users[kind] = first.users[kind] | second.users[kind]
    for effects in (first, second):
        for key, ids in effects.minute_users.items():
            merged.minute_users.setdefault(key, set()).update(ids)
    return merged
