"""One exchange of the chat, and the shape the browser keeps it in (localStorage) to show it again.

The conversation lives only in the browser: it sends its stored turns back to `POST /turns`, which
checks them against the API's answer schema and renders them with the same template as new answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from qa.config import MAX_QUESTION_CHARS
from web.api import AskResponse

# Turns the browser keeps and sends back; older ones are dropped there first.
MAX_STORED_TURNS = 30


@dataclass(frozen=True)
class ChatTurn:
    """One exchange on the page. `result` (Answer.to_dict()) is None for earlier turns re-rendered without JS.

    `within` holds the titles of the documents the question was restricted to (empty: all of them);
    `shas` the content hash of each document a passage link points into, taken when it was answered.
    """

    question: str
    answer: str | None
    result: dict[str, Any] | None = None
    titles: dict[str, str] = field(default_factory=dict)
    within: tuple[str, ...] = ()
    shas: dict[str, str] = field(default_factory=dict)

    @property
    def history_question(self) -> str:
        # The self-contained form helps the next follow-up more than "did he ...?" would.
        if self.result is not None and self.result.get("resolved_question"):
            return str(self.result["resolved_question"])
        return self.question

    def stored(self) -> str:
        """The turn as JSON for the page to keep (a data attribute; autoescaped like any text)."""
        if self.result is None:
            return ""
        data = {
            "question": self.question,
            "result": self.result,
            "titles": self.titles,
            "within": list(self.within),
            "shas": self.shas,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class StoredTurn(BaseModel):
    """A turn as the browser kept it; checked like an API answer before it is rendered again."""

    question: str = Field(max_length=MAX_QUESTION_CHARS)
    result: AskResponse
    titles: dict[str, str] = Field(default_factory=dict)
    within: list[str] = Field(default_factory=list, max_length=1000)
    shas: dict[str, str] = Field(default_factory=dict)

    def to_turn(self) -> ChatTurn:
        result = self.result.model_dump()
        return ChatTurn(
            question=self.question,
            answer=result["answer"],
            result=result,
            titles=self.titles,
            within=tuple(self.within),
            shas=self.shas,
        )


class StoredConversation(BaseModel):
    turns: list[StoredTurn] = Field(max_length=MAX_STORED_TURNS)
