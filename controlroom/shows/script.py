"""A show's minute-level script (分钟级流程脚本) as plain data: ordered segments with
planned durations, talk points and timed cues. Pure; SQL rows and files map to it."""

from __future__ import annotations

from dataclasses import dataclass, field

SEGMENT_KINDS = ("opening", "product", "interaction", "flash_sale", "qa", "break", "closing")
AUDIENCES = ("host", "controller", "both")

SEGMENT_KIND_NAMES = {
    "opening": ("开场", "Opening"), "product": ("讲品", "Product"), "interaction": ("互动", "Interaction"),
    "flash_sale": ("秒杀", "Flash sale"), "qa": ("答疑", "Q&A"), "break": ("休息", "Break"),
    "closing": ("收尾", "Closing"),
}


@dataclass(frozen=True)
class Cue:
    """Something to say or do at +offset_s into its segment ("开福袋", "上链接")."""

    offset_s: int
    text: str
    audience: str = "both"  # host | controller | both


@dataclass(frozen=True)
class Segment:
    title: str
    kind: str
    planned_s: int  # planned duration in seconds
    sku: str = ""
    talk_points: str = ""  # 话术, for the host
    notes: str = ""  # for the controller
    cues: tuple[Cue, ...] = ()
    # Optional fixed start, seconds after the show's planned start (a CSV's 开始 column);
    # None: straight after the segment before.
    starts_at_s: int | None = None
    # Online viewers this segment should hold (SOP 1: below it is a trough); None: no target.
    online_target: int | None = None


@dataclass(frozen=True)
class Product:
    """A product the show sells: its link (SKU), name, price and the stock it starts
    with (None: not known; feeds may report it). Segments present it by SKU."""

    sku: str
    name: str = ""
    price_cents: int | None = None
    stock: int | None = None
    on_shelf: bool = True


@dataclass(frozen=True)
class Script:
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    # The slot the show has (its planned end); None: no limit.
    planned_total_s: int | None = None
    products: tuple[Product, ...] = field(default_factory=tuple)

    @property
    def total_s(self) -> int:
        return sum(segment.planned_s for segment in self.segments)


@dataclass(frozen=True)
class ScriptWarning:
    kind: str  # gap | overlap | overrun
    segment: int | None  # index, for gaps and overlaps
    seconds: int


def script_warnings(script: Script) -> list[ScriptWarning]:
    """Gaps and overlaps where a segment has a fixed start, and a total past the slot."""
    found, clock = [], 0
    for index, segment in enumerate(script.segments):
        if segment.starts_at_s is not None and index:
            if segment.starts_at_s > clock:
                found.append(ScriptWarning("gap", index, segment.starts_at_s - clock))
            elif segment.starts_at_s < clock:
                found.append(ScriptWarning("overlap", index, clock - segment.starts_at_s))
        start = segment.starts_at_s if segment.starts_at_s is not None else clock
        clock = start + segment.planned_s
    if script.planned_total_s is not None and clock > script.planned_total_s:
        found.append(ScriptWarning("overrun", None, clock - script.planned_total_s))
    return found
