"""The filters every analyst command takes, declared once: `@filtered` gives a command these
options and hands it one `Filters` value (archive.query.Filters) in their place."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import typer

from .common import fail


class AdoptionClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Kind(StrEnum):
    cppcc = "cppcc"
    npc = "npc"


_OPTIONS: list[tuple[str, object, object]] = [
    ("text", None, Annotated[str | None, typer.Argument(
        metavar="[TEXT]", show_default=False,
        help='Full-text search over title, content and reply: every word must match; "a phrase" as written; '
             "OR between two terms.")]),
    ("sponsor", None, Annotated[str | None, typer.Option("--sponsor", metavar="NAME",
                                                         help="A sponsor's name (lead or co).")]),
    ("lead_only", False, Annotated[bool, typer.Option("--lead-only", help="Lead sponsors only.")]),
    ("adoption", None, Annotated[list[AdoptionClass] | None, typer.Option(
        "--adoption", metavar="CLASS", case_sensitive=False, help="Adoption class A, B, C or D (repeatable).")]),
    ("year", None, Annotated[list[int] | None, typer.Option(
        "--year", metavar="YEAR", help="The session year, from the number or title (repeatable).")]),
    ("published_year", None, Annotated[list[int] | None, typer.Option(
        "--published-year", metavar="YEAR", help="The year of publication (发布时间, else 生成日期; repeatable).")]),
    ("kind", None, Annotated[Kind | None, typer.Option("--kind", help="Proposals (cppcc) or suggestions (npc).")]),
    ("unit", None, Annotated[str | None, typer.Option("--unit", metavar="NAME", help="A handling unit (lead or co).")]),
    ("category", None, Annotated[str | None, typer.Option("--category", metavar="TEXT", help="类型, as printed.")]),
    ("status", None, Annotated[str | None, typer.Option("--status", metavar="TEXT", help="落实情况, as printed.")]),
    ("like", False, Annotated[bool, typer.Option(
        "--like", help="--unit, --category and --status match any value that contains them.")]),
    ("site", None, Annotated[str | None, typer.Option("--site", metavar="SLUG", help="A site's slug.")]),
    ("since", None, Annotated[str | None, typer.Option("--since", metavar="DATE",
                                                       help="Published on or after (YYYY-MM-DD).")]),
    ("changed_since", None, Annotated[str | None, typer.Option("--changed-since", metavar="DATE",
                                                               help="Changed on or after (YYYY-MM-DD).")]),
]
NAMES = tuple(name for name, _, _ in _OPTIONS)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    for pattern in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise fail(f"{option} takes a date as YYYY-MM-DD, not {value!r}", 2)


def make_filters(text=None, sponsor=None, lead_only=False, adoption=None, year=None, published_year=None,
                 kind=None, unit=None, category=None, status=None, like=False, site=None, since=None,
                 changed_since=None):
    """The Filters of these option values, or a one-line usage error (exit 2)."""
    from archive.query import Filters, QueryError

    try:
        return Filters(text=text, sponsor=sponsor, lead_only=lead_only,
                       adoption=tuple(str(a).upper() for a in adoption or ()), year=tuple(year or ()),
                       published_year=tuple(published_year or ()), kind=str(kind) if kind else None, unit=unit,
                       category=category, status=status, like=like, site=site, since=_date(since, "--since"),
                       changed_since=_date(changed_since, "--changed-since"))
    except QueryError as error:
        raise fail(str(error), 2) from None


def filtered(command: Callable) -> Callable:
    """The command with the filter options in front of its own, called with `filters=Filters(...)`."""
    own = inspect.signature(command, eval_str=True)
    parameters = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
                  for name, default, annotation in _OPTIONS]
    parameters += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own.parameters.values()
                   if p.name != "filters"]
    # the text argument must come first among arguments: Typer orders them as declared
    ordered = sorted(parameters, key=lambda p: not isinstance(_typer_info(p), typer.models.ArgumentInfo))

    def run(**values):
        chosen = make_filters(**{name: values.pop(name) for name in NAMES})
        return command(filters=chosen, **values)

    run.__name__, run.__doc__, run.__module__ = command.__name__, command.__doc__, command.__module__
    run.__signature__ = own.replace(parameters=ordered)
    return run


def _typer_info(parameter: inspect.Parameter):
    metadata = getattr(parameter.annotation, "__metadata__", ())
    if metadata:
        return metadata[0]
    return parameter.default
