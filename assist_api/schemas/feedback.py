"""What the console reports about suggestions, and label corrections, as the API takes and
returns them (stored by assist_api/assist/feedback_service.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["shown", "inserted", "sent_unchanged", "sent_edited", "ignored"]
Source = Literal["template", "kb"]
StageName = Literal["opening", "confirmation", "solution", "soothing", "closing"]
CorrectableField = Literal["category", "priority", "complexity", "emotion", "is_complaint"]


class SuggestionEventIn(BaseModel):
    impression_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                               description="The suggest response's impression_id.")
    source: Source
    item_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                         description="The template id or KB entry id.", examples=["tpl-opening-1"])
    stage: StageName | None = Field(default=None, description="The template's stage (none for a KB answer).")
    rank: int = Field(ge=1, le=10, description="Its position in the list shown, from 1.")
    action: Action
    edit_distance: int | None = Field(default=None, ge=0, le=4000,
                                      description="For sent_edited: characters changed (Levenshtein).")
    suggestion_text: str | None = Field(default=None, max_length=2000,
                                        description="For sent_*: the suggestion as inserted; with sent_text the "
                                                    "server computes the edit distance. Not stored.")
    sent_text: str | None = Field(default=None, max_length=2000, description="For sent_*: what was sent. Not stored.")


class SuggestionEventsIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"handoff_id": 7, "events": [
        {"impression_id": "9f1c2e", "source": "template", "item_id": "tpl-opening-1", "stage": "opening",
         "rank": 1, "action": "inserted"},
        {"impression_id": "9f1c2e", "source": "template", "item_id": "tpl-opening-1", "stage": "opening",
         "rank": 1, "action": "sent_edited", "suggestion_text": "您好，我是客服小李。",
         "sent_text": "您好王女士，我是客服小李。"}]}]})

    handoff_id: int = Field(ge=1, examples=[7])
    events: list[SuggestionEventIn] = Field(min_length=1, max_length=50)


class SuggestionEventsStoredOut(BaseModel):
    stored: int


class CorrectionIn(BaseModel):
    field: CorrectableField
    value: Annotated[str, Field(max_length=32)] | bool = Field(
        description="A label of common/labels.yaml for the field; true/false for is_complaint.",
        examples=["network"])


class LabelCorrectionOut(BaseModel):
    id: int
    field: CorrectableField
    old_value: str | None
    new_value: str
    agent: str
    at: str
