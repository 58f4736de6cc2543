"""Every ``cw`` command and subcommand explains itself: help line, description, examples.

Walks the whole argparse tree, so a command group added later is checked too.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from crosswalk.cli.main import COMMAND_GROUPS, build_parser


def _walk(
    parser: argparse.ArgumentParser, name: str = "cw"
) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    """Yield ``(command path, parser, its one-line help)`` for every parser in the tree."""
    yield name, parser, None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            # an aliased command's help line is listed as "show (get)": find it by parser
            helps = {
                id(action.choices[choice.dest.split(" (")[0]]): choice.help
                for choice in action._choices_actions
            }
            for sub_name, sub in action.choices.items():
                for path, child, child_help in _walk(sub, f"{name} {sub_name}"):
                    yield path, child, helps.get(id(sub)) if child is sub else child_help


COMMANDS = list(_walk(build_parser(load_all=True)))
IDS = [path for path, _, _ in COMMANDS]


def test_every_declared_command_is_registered_by_its_module() -> None:
    top_level = {path.split(" ")[1] for path in IDS if path.count(" ") == 1}
    assert top_level == {name for names in COMMAND_GROUPS.values() for name in names}


def test_the_tree_has_the_contract_commands() -> None:
    assert set(IDS) >= {
        "cw",
        "cw ask",
        "cw wait",
        "cw listen",
        "cw answer",
        "cw conversation",
        "cw conversation show",
        "cw conversation get",
        "cw conversation list",
        "cw serve",
    }


@pytest.mark.parametrize(("path", "parser", "one_line"), COMMANDS, ids=IDS)
def test_command_is_documented(
    path: str, parser: argparse.ArgumentParser, one_line: str | None
) -> None:
    if path != "cw":
        assert one_line, f"{path} has no one-line help in its parent's command list"
        assert "\n" not in one_line
    assert parser.description and parser.description.strip(), f"{path} has no description"
    assert parser.epilog and "Examples:" in parser.epilog, f"{path} has no examples"
    examples = parser.epilog.split("Examples:", 1)[1].splitlines()
    # at least one example runs this very command
    assert any(path in line for line in examples), f"no example of {path!r}"
    assert isinstance(parser.formatter_class, type)
    assert issubclass(parser.formatter_class, argparse.RawDescriptionHelpFormatter)


@pytest.mark.parametrize(("path", "parser", "one_line"), COMMANDS, ids=IDS)
def test_every_argument_has_help(
    path: str, parser: argparse.ArgumentParser, one_line: str | None
) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help, f"{path}: {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize(("path", "parser", "one_line"), COMMANDS, ids=IDS)
def test_help_renders(path: str, parser: argparse.ArgumentParser, one_line: str | None) -> None:
    text = parser.format_help()
    assert "Examples:" in text
