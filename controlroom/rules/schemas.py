"""A rule's definition: what to watch, when to raise which colour, what to do.

Shipped as YAML (controlroom/rules/defaults.yaml), stored in SQL as the same JSON, edited
on the rules page. Validation errors carry the field's path ("condition.value"), so the
page shows each next to its field.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from controlroom.rules.signals import HITS_PREFIX, METRICS

Level = Literal["blue", "yellow", "red"]
LEVEL_RANK = {"blue": 1, "yellow": 2, "red": 3}
Comparison = Literal["<", "<=", ">", ">="]
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CATEGORY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_metric(name: str) -> str:
    if name in METRICS or (name.startswith(HITS_PREFIX) and len(name) > len(HITS_PREFIX)):
        return name
    raise PydanticCustomError(
        "unknown_metric", "unknown metric {name}; one of {choices}",
        {"name": name, "choices": ", ".join(METRICS) + " or hits.<category>"},
    )


def _per_minute_metric(name: str) -> str:
    if METRICS.get(name, (None, None, None))[2] is None:
        per_minute = [m for m, spec in METRICS.items() if spec[2]]
        raise PydanticCustomError(
            "no_minute_series", "{name} has no per-minute series; one of {choices}",
            {"name": name, "choices": ", ".join(per_minute)},
        )
    return name


class Threshold(_Strict):
    """The metric compared with a value (online < 500)."""

    kind: Literal["threshold"] = "threshold"
    metric: str
    op: Comparison
    value: float

    _metric = field_validator("metric")(_known_metric)


class Change(_Strict):
    """The metric over the last window against the window before, as a fraction
    (-0.2: down 20 %). Gauges (online) compare the latest reading with the earlier
    window's average; flows compare sums of complete minutes.

    `against: recent_max` compares a gauge's latest reading with the highest minute of
    the last window instead (from `min_points` complete minutes on): it sees a fall from
    the first minutes of a show and right after a climb. Minutes of a flash sale or a
    lucky bag, and the two after, are left out of that level, so the return to normal
    after one is not a fall. `against: recent_min` is the same for a rise, against the
    lowest minute of the last window; the show's first two minutes (the room filling
    up as it opens) are left out of that level."""

    kind: Literal["change"] = "change"
    metric: str
    window_s: int = Field(300, ge=60, le=3600)
    op: Literal["<=", ">="]
    value: float = Field(ge=-1, le=100)
    against: Literal["window_before", "recent_max", "recent_min"] = "window_before"
    min_points: int = Field(2, ge=1, le=60)

    _metric = field_validator("metric")(_per_minute_metric)


class Baseline(_Strict):
    """The last window against this show's running level ("show") or the room's
    earlier shows ("room"): `sigmas` standard deviations away, or `drop` (a fraction)
    from the mean; either one fires. A rate of people (conversion) against the show's
    level is judged on evidence: the far end of the window's rate (Wilson interval at
    `confidence`) must be `drop` away, so a few buyers fewer in a small room is not one."""

    kind: Literal["baseline"] = "baseline"
    metric: str
    source: Literal["show", "room"] = "show"
    direction: Literal["below", "above"] = "below"
    window_s: int = Field(600, ge=60, le=3600)
    sigmas: float | None = Field(None, gt=0, le=10)
    drop: float | None = Field(None, gt=0, lt=1)
    min_points: int = Field(10, ge=3, le=10_000)
    confidence: float = Field(0.95, ge=0.5, lt=1)

    _metric = field_validator("metric")(_per_minute_metric)

    @model_validator(mode="after")
    def _needs_a_measure(self) -> "Baseline":
        if self.sigmas is None and self.drop is None:
            raise PydanticCustomError("needs_measure", "set sigmas or drop (or both)")
        return self


class KeywordRate(_Strict):
    """Moderation hits of a category in the last window: per minute, or as a share of
    the comments. `min_rise` also asks for a spike against the window before.

    A share is judged on evidence, not chance: it holds only when the share is above
    the value even at the low end of what the comments seen could mean (the Wilson
    lower bound at `confidence`). A steady share just under the value stays quiet in a
    busy room; a clearly high share fires in a small one, from `min_comments` on.

    `on_stage`: only while a product is presented, counting from when it went on stage,
    so doubt is about the product on stage (SOP 8), not the one before it."""

    kind: Literal["keyword_rate"] = "keyword_rate"
    category: str = Field(pattern=CATEGORY_PATTERN)
    per: Literal["minute", "share"] = "minute"
    op: Literal[">", ">="] = ">="
    value: float = Field(ge=0)
    window_s: int = Field(60, ge=10, le=600, multiple_of=10)
    min_comments: int = Field(10, ge=1, le=100_000)
    min_rise: float | None = Field(None, gt=0, le=100)
    confidence: float = Field(0.95, ge=0.5, lt=1)
    on_stage: bool = False


EACH_SOURCE = "*"


class Absence(_Strict):
    """No events (or none of one type, or none from one source) for `seconds` while the
    show is live. `from_source`: a feed's name (the events' `source`: douyin, doudian …),
    or "*" for each source heard from during the show, one alert per source."""

    kind: Literal["absence"] = "absence"
    event_type: str | None = None
    from_source: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    seconds: int = Field(ge=1, le=3600)

    @property
    def each_source(self) -> bool:
        return self.from_source == EACH_SOURCE


class Ratio(_Strict):
    """One metric over another (complaints / paid orders > 1.5 %)."""

    kind: Literal["ratio"] = "ratio"
    numerator: str
    denominator: str
    op: Comparison
    value: float
    min_denominator: float = Field(1, gt=0)

    _metrics = field_validator("numerator", "denominator")(_known_metric)


class Status(_Strict):
    """The stream's own report: its status, or its latency above a limit."""

    kind: Literal["status"] = "status"
    status: Literal["interrupted", "ended"] | None = None
    latency_ms_above: int | None = Field(None, ge=1, le=600_000)

    @model_validator(mode="after")
    def _needs_a_test(self) -> "Status":
        if self.status is None and self.latency_ms_above is None:
            raise PydanticCustomError("needs_status_test", "set status or latency_ms_above")
        return self


Condition = Annotated[
    Union[Threshold, Change, Baseline, KeywordRate, Absence, Ratio, Status], Field(discriminator="kind")
]
CONDITION_KINDS = {model.model_fields["kind"].default: model for model in Condition.__origin__.__args__}


class RuleDefinition(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=100)
    level: Level
    # Rules of a group can be muted together (a stream outage mutes "traffic").
    group: str = Field("general", pattern=CATEGORY_PATTERN)
    condition: Condition
    for_s: int = Field(0, ge=0, le=3600)  # must hold this long before firing
    clear_for_s: int = Field(30, ge=0, le=3600)  # must be false this long to resolve
    renotify_s: int = Field(120, ge=0, le=86_400)  # 0: never re-notify
    escalate_after_s: int | None = Field(None, ge=1, le=3600)  # None: the setting, for red
    # room=<slug> limits the rule to one room; the others describe what it is about.
    labels: dict[str, str] = Field(default_factory=dict)
    advice: str = Field("", max_length=500)  # what to do, shown with the alert
    playbook: str | None = Field(None, pattern=KEY_PATTERN)
    cue: str | None = Field(None, max_length=200)  # sent to the host screen while firing
    inhibits: list[str] = Field(default_factory=list)  # groups muted while this fires
    only_live: bool = True
    enabled: bool = True

    def applies_to(self, room: str) -> bool:
        return self.enabled and self.labels.get("room", room) == room

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if name not in {"room", "sku", "category", "segment", "source"}:
                raise PydanticCustomError(
                    "unknown_label", "unknown label {name}; one of room, sku, category, segment, source", {"name": name}
                )
        return labels

    @field_validator("inhibits")
    @classmethod
    def _groups(cls, groups: list[str]) -> list[str]:
        for group in groups:
            if not group or len(group) > 32:
                raise PydanticCustomError("group_name", "group name {name} must be 1-32 characters", {"name": group})
        return groups
