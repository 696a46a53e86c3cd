"""What a tracking checkpoint means: a lookup table, shipped as data and extendable.

Lazada's trace sends numeric ``status_code`` s (``"1200"``) with a ``detail_type``
(``ready_to``, ``ship_info``, ``delivered``) and an English ``title``; the full code list is
not published. The rules only need a few *milestones* (packed, sorting-centre arrival,
delivered, ...), so the meaning of a checkpoint is looked up in ``milestones.json`` next to
this module, in this order:

1. the exact code (documented numeric codes, and the push-notification UPPER_CASE names an
   older cache holds);
2. code patterns (push names with prefixes);
3. title patterns, first match wins (so a new code with a plain title still counts);
4. the ``detail_type`` alone.

An event nothing matches has no milestone: it is kept and shown with its own title, and
counted (``xl-lazada doctor``, ``xl-lazada status``) so a new Lazada code gets noticed. A
seller adds codes without a release through ``RuleSettings.extra_milestones`` or the
``XL_LAZADA_MILESTONES`` environment variable: a JSON file (or JSON text) of the same shape,
whose entries win over the shipped ones.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InputError

PACKED = "packed"
HANDED_OVER = "handed_over"
SORT_CENTRE_INBOUND = "sort_centre_inbound"
LEFT_SORT_CENTRE = "left_sort_centre"
LEFT_ORIGIN = "left_origin"
CUSTOMS = "customs"
ARRIVED_DESTINATION = "arrived_destination"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
FAILED_DELIVERY = "failed_delivery"
RETURNING = "returning"
RETURNED = "returned"
RETURN_FAILED = "return_failed"
LOST = "lost"
DAMAGED = "damaged"
SCRAPPED = "scrapped"

MILESTONES: tuple[str, ...] = (
    PACKED,
    HANDED_OVER,
    SORT_CENTRE_INBOUND,
    LEFT_SORT_CENTRE,
    LEFT_ORIGIN,
    CUSTOMS,
    ARRIVED_DESTINATION,
    IN_TRANSIT,
    OUT_FOR_DELIVERY,
    DELIVERED,
    FAILED_DELIVERY,
    RETURNING,
    RETURNED,
    RETURN_FAILED,
    LOST,
    DAMAGED,
    SCRAPPED,
)

#: Milestones that only happen once the parcel left the sorting centre: proof it got there
#: even when the inbound scan itself is missing from the trace.
AFTER_SORT_CENTRE: frozenset[str] = frozenset(
    {
        LEFT_SORT_CENTRE,
        LEFT_ORIGIN,
        CUSTOMS,
        ARRIVED_DESTINATION,
        OUT_FOR_DELIVERY,
        DELIVERED,
        FAILED_DELIVERY,
    }
)
#: After these nothing more is expected for the parcel.
FINAL: frozenset[str] = frozenset({DELIVERED, RETURNED, RETURN_FAILED, LOST, DAMAGED, SCRAPPED})

ENV_VAR = "XL_LAZADA_MILESTONES"

BY_CODE = "code"
BY_CODE_PATTERN = "code_pattern"
BY_TITLE = "title"
BY_TYPE = "detail_type"


class MilestoneTableError(InputError):
    """An extra milestone table that cannot be read (the message names the file and entry)."""


@dataclass(frozen=True, slots=True)
class Match:
    """``milestone`` (None: nothing matched) and how it was found (``by``: "code",
    "code_pattern", "title", "detail_type", or "" when nothing matched)."""

    milestone: str | None
    by: str = ""

    @property
    def listed(self) -> bool:
        """The code itself is in the table (a title or type match means a code to add)."""
        return self.by in (BY_CODE, BY_CODE_PATTERN)


@dataclass
class MilestoneTable:
    """The lookup. Build with :func:`default_table` / :func:`milestone_table`."""

    labels: dict[str, str]
    codes: dict[str, str]
    code_patterns: list[tuple[re.Pattern[str], str]]
    title_patterns: list[tuple[re.Pattern[str], str]]
    detail_types: dict[str, str]
    _memo: dict[tuple[Any, Any, Any], Match] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "milestone table") -> MilestoneTable:
        """Parse the JSON shape of ``milestones.json`` (every key optional in an extra file)."""
        if not isinstance(data, dict):
            raise MilestoneTableError(f"{where}: expected a JSON object")
        labels = dict(_DEFAULT_LABELS)
        for name, label in (data.get("milestones") or {}).items():
            labels[str(name)] = str(label)

        def milestone(entry: Any, what: str) -> str:
            name = str(entry).strip().lower() if entry is not None else ""
            if name not in labels:
                raise MilestoneTableError(
                    f"{where}: {what} names an unknown milestone {name!r} "
                    f"(known: {', '.join(sorted(labels))})"
                )
            return name

        codes: dict[str, str] = {}
        for entry in data.get("codes") or []:
            if not isinstance(entry, dict) or not str(entry.get("code", "")).strip():
                raise MilestoneTableError(f"{where}: each code entry needs a 'code'")
            code = _norm_code(entry["code"])
            codes[code] = milestone(entry.get("milestone"), f"code {code!r}")

        def patterns(key: str) -> list[tuple[re.Pattern[str], str]]:
            out = []
            for entry in data.get(key) or []:
                if not isinstance(entry, dict) or "pattern" not in entry:
                    raise MilestoneTableError(f"{where}: each {key} entry needs a 'pattern'")
                try:
                    rx = re.compile(str(entry["pattern"]), re.IGNORECASE)
                except re.error as exc:
                    raise MilestoneTableError(
                        f"{where}: bad pattern {entry['pattern']!r} ({exc})"
                    ) from None
                out.append((rx, milestone(entry.get("milestone"), f"pattern {rx.pattern!r}")))
            return out

        detail_types = {
            str(k).strip().lower(): milestone(v, f"detail_type {k!r}")
            for k, v in (data.get("detail_types") or {}).items()
        }
        return cls(
            labels=labels,
            codes=codes,
            code_patterns=patterns("code_patterns"),
            title_patterns=patterns("title_patterns"),
            detail_types=detail_types,
        )

    def merged(self, extra: MilestoneTable) -> MilestoneTable:
        """This table with ``extra`` on top: its codes win, its patterns are tried first."""
        return MilestoneTable(
            labels={**self.labels, **extra.labels},
            codes={**self.codes, **extra.codes},
            code_patterns=extra.code_patterns + self.code_patterns,
            title_patterns=extra.title_patterns + self.title_patterns,
            detail_types={**self.detail_types, **extra.detail_types},
        )

    def classify(self, status_code: Any, detail_type: Any = "", title: Any = "") -> Match:
        """The milestone of one checkpoint (see the module docstring for the order)."""
        raw = (status_code, detail_type, title)  # memo on the values as given: no re-cleaning
        hit = self._memo.get(raw)
        if hit is not None:
            return hit
        code, dtype, text = _norm_code(status_code), _text(detail_type).lower(), _text(title)
        match = Match(None)
        if code and code in self.codes:
            match = Match(self.codes[code], BY_CODE)
        elif code and (m := _first(self.code_patterns, code)):
            match = Match(m, BY_CODE_PATTERN)
        elif text and (m := _first(self.title_patterns, text)):
            match = Match(m, BY_TITLE)
        elif dtype in self.detail_types:
            match = Match(self.detail_types[dtype], BY_TYPE)
        with self._lock:
            if len(self._memo) > 65536:  # distinct (code, type, title) triples are few
                self._memo.clear()
            self._memo[raw] = match
        return match

    def milestone(self, status_code: Any, detail_type: Any = "", title: Any = "") -> str | None:
        return self.classify(status_code, detail_type, title).milestone

    def label(self, milestone: str | None) -> str:
        return self.labels.get(milestone or "", "")


_DEFAULT_LABELS = {m: m.replace("_", " ").capitalize() for m in MILESTONES}


def _text(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return "" if text.lower() == "null" else text


def _norm_code(value: Any) -> str:
    return _text(value).upper()


def _first(patterns: list[tuple[re.Pattern[str], str]], text: str) -> str | None:
    for rx, name in patterns:
        if rx.search(text):
            return name
    return None


@cache
def default_table() -> MilestoneTable:
    """The table shipped with the package."""
    text = resources.files(__package__).joinpath("milestones.json").read_text(encoding="utf-8")
    return MilestoneTable.from_dict(json.loads(text), where="milestones.json")


def load_extra(source: str) -> MilestoneTable:
    """An extra table from a JSON file path, or from JSON text (starting with ``{``)."""
    source = source.strip()
    if source.startswith("{"):
        where = "extra_milestones"
        try:
            data = json.loads(source)
        except ValueError as exc:
            raise MilestoneTableError(f"{where}: not JSON ({exc})") from None
    else:
        where = source
        try:
            data = json.loads(Path(source).expanduser().read_text(encoding="utf-8"))
        except OSError as exc:
            raise MilestoneTableError(
                f"{where}: cannot read the milestone file ({exc.strerror})"
            ) from None
        except ValueError as exc:
            raise MilestoneTableError(f"{where}: not JSON ({exc})") from None
    return MilestoneTable.from_dict(data, where=where)


@cache
def _combined(sources: tuple[str, ...]) -> MilestoneTable:
    table = default_table()
    for source in sources:
        table = table.merged(load_extra(source))
    return table


def milestone_table(extra: str | None = None) -> MilestoneTable:
    """The shipped table, plus ``XL_LAZADA_MILESTONES`` and then ``extra`` (a settings value)
    on top. Files are read once per distinct value."""
    env = os.environ.get(ENV_VAR)
    if not env and not extra:
        return default_table()  # the common case, called for every parcel: keep it cheap
    sources = tuple(s for s in (env or "", extra or "") if s and s.strip())
    return _combined(sources)


def table_for(settings: Any = None) -> MilestoneTable:
    """The table for a :class:`~xl_lazada.rules.settings.RuleSettings` (or ``None``)."""
    return milestone_table(getattr(settings, "extra_milestones", "") or "")
