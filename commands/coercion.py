"""Typer's parameter coercion without its price for the values every command takes.

Typer 0.2x coerces each parameter's value, given or default, through a Pydantic TypeAdapter built
for that parameter on first use: a command of twenty options imports Pydantic and builds twenty
validators (about a tenth of a second) before it does any work. `install()` puts a quick path in
front of it for the plain cases (str, int, bool, Enum choices and lists of these): a value that is
certainly valid is converted as Typer would convert it; anything else (a bad value, an annotation
or option the quick path does not know) goes to Typer's own coercion, which decides and words the
error. So results and messages stay Typer's; only the cost of a good value changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin

# what int() and Pydantic read alike; longer numbers and any other spelling are Typer's to judge
_INTEGER = re.compile(r"-?[0-9]{1,18}", re.ASCII)


class _NotCertain(Exception):
    pass


def _string(value: Any, _ctx) -> str:
    if type(value) is not str:
        raise _NotCertain
    return value


def _integer(value: Any, _ctx) -> int:
    if type(value) is int:
        return value
    if type(value) is str and _INTEGER.fullmatch(value):
        return int(value)
    raise _NotCertain


def _flag(value: Any, _ctx) -> bool:
    if type(value) is not bool:
        raise _NotCertain
    return value


def _leaf(annotation: Any, info) -> Callable[[Any, Any], Any] | None:
    """The quick conversion of one value of `annotation`, or None where Typer's own must run."""
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    if annotation is str:
        return _string
    if annotation is int and getattr(info, "min", None) is None and getattr(info, "max", None) is None:
        return _integer
    if annotation is bool:
        return _flag
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        from typer._param_types import coerce_cli_choice

        choices, case_sensitive = list(annotation), info.case_sensitive

        def choice(value: Any, ctx) -> Any:
            try:
                return coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive, ctx=ctx)
            except ValueError:
                raise _NotCertain from None

        return choice
    return None


def quick_runtime_param(descriptor, fallback: Callable):
    """A RuntimeParam for `descriptor` with the quick path in front of `fallback(descriptor)`'s,
    or None when the quick path knows nothing of its annotation."""
    from typer._coercion import RuntimeParam

    if descriptor.file_annotation is not None:
        return None
    annotation, many = descriptor.annotation, False
    if get_origin(annotation) is list and len(get_args(annotation)) == 1:
        annotation, many = get_args(annotation)[0], True
    leaf = _leaf(annotation, descriptor.parameter_info)
    if leaf is None:
        return None

    @dataclass(frozen=True)
    class QuickRuntimeParam(RuntimeParam):
        def _coerce_value(self, value: Any, param, ctx) -> Any:
            try:
                if many:  # as Typer's list adapter: one value stands for a list of one
                    return [leaf(item, ctx) for item in (value if isinstance(value, list | tuple) else [value])]
                return leaf(value, ctx)
            except _NotCertain:
                return fallback(descriptor)._coerce_value(value, param=param, ctx=ctx)

    return QuickRuntimeParam(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)


def install() -> None:
    """Put the quick path in front of Typer's coercion (a Typer without the Pydantic layer is left be)."""
    import typer.core

    original = getattr(typer.core, "build_runtime_param", None)
    if original is None or getattr(original, "quick", False):
        return

    def build_runtime_param(descriptor):
        return quick_runtime_param(descriptor, original) or original(descriptor)

    build_runtime_param.quick = True
    build_runtime_param.original = original
    typer.core.build_runtime_param = build_runtime_param
