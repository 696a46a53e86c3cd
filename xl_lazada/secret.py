"""A string wrapper that will not print itself, so secrets cannot leak into logs or reprs."""

from __future__ import annotations


class Secret:
    """Holds an app secret or token. ``str()``/``repr()``/f-strings show ``***``; call ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __reduce__(self):  # never pickle a secret by accident
        raise TypeError("Secret values cannot be pickled")
