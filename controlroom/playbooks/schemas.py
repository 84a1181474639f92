"""A playbook's definition: the plan for a situation, written down with owners and
deadlines. Shipped as YAML (defaults.yaml), stored in SQL, edited on a page as YAML."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OWNERS = ("tech", "controller", "host", "customer_service")
OWNER_NAMES = {"tech": ("技术", "Tech"), "controller": ("场控", "Controller"), "host": ("主播", "Host"),
               "customer_service": ("客服", "Customer service")}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EncoderStep(_Strict):
    """Something the room's encoder (OBS) does for a step: when the step is ticked done,
    or by itself as soon as the step becomes the current one."""

    op: Literal["switch_scene", "start_stream", "stop_stream", "start_output", "stop_output"]
    scene: str | None = Field(None, min_length=1, max_length=200)
    output: str | None = Field(None, min_length=1, max_length=200)
    when: Literal["tick", "start"] = "tick"

    @model_validator(mode="after")
    def _names_what_it_needs(self) -> "EncoderStep":
        if self.op == "switch_scene" and not self.scene:
            raise ValueError("switch_scene needs the scene to switch to (scene: 备用画面)")
        if self.op in ("start_output", "stop_output") and not self.output:
            raise ValueError(f"{self.op} needs the output's name (output: …)")
        return self

    def action(self) -> dict[str, str]:
        """As the encoder connector takes it (controlroom/connectors/obs.py perform)."""
        return {"op": self.op, **({"scene": self.scene} if self.scene else {}),
                **({"output": self.output} if self.output else {})}


class Step(_Strict):
    title: str = Field(min_length=1, max_length=200)
    owner: Literal["tech", "controller", "host", "customer_service"]
    deadline_s: int = Field(ge=5, le=24 * 3600)  # from the start of the run
    instructions: str = Field("", max_length=2000)
    cue: str | None = Field(None, max_length=300)  # sent to the host screen when the step starts
    checklist: list[str] = Field(default_factory=list, max_length=20)
    encoder: EncoderStep | None = None


class PlaybookDefinition(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=100)
    level: Literal["blue", "yellow", "red"]
    # manual only, or also suggested by these alert rules
    rules: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _deadlines_in_order(self) -> "PlaybookDefinition":
        deadlines = [step.deadline_s for step in self.steps]
        if deadlines != sorted(deadlines):
            raise ValueError("steps must be in the order of their deadlines")
        return self
