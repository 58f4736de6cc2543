"""Human-readable agent aliases: ``adjective-animal`` (``brave-otter``).

People read and type agent names (``cw ask --agent brave-otter``), so an alias
is two short, common, lowercase words joined by a hyphen: easy to say, easy to
tell apart. 60 adjectives x 60 animals give 3,600 aliases; uniqueness is not
this module's job (the agent repository retries and, if it must, appends a
suffix). ``secrets`` rather than ``random``: aliases must not repeat in step
across processes seeded alike. Standard library only.
"""

from __future__ import annotations

import secrets

ADJECTIVES: tuple[str, ...] = (
    "agile", "amber", "bold", "brave", "bright", "brisk", "calm", "clever",
    "cosmic", "crisp", "curious", "daring", "deft", "eager", "early", "fair",
    "fancy", "fast", "fierce", "gentle", "glad", "golden", "grand", "happy",
    "hardy", "honest", "humble", "jolly", "keen", "kind", "lively", "lucky",
    "merry", "mighty", "modest", "nimble", "noble", "patient", "plucky", "polite",
    "proud", "quick", "quiet", "rapid", "ready", "shiny", "silent", "sleek",
    "smart", "snowy", "steady", "sunny", "swift", "tidy", "tough", "vivid",
    "warm", "wise", "witty", "zesty",
)  # fmt: skip

ANIMALS: tuple[str, ...] = (
    "badger", "bat", "bear", "beaver", "bison", "camel", "cat", "cobra",
    "crane", "crow", "deer", "dingo", "dolphin", "dove", "eagle", "falcon",
    "ferret", "finch", "fox", "gecko", "goat", "goose", "hare", "hawk",
    "heron", "horse", "ibis", "jaguar", "koala", "lemur", "lion", "llama",
    "lynx", "marten", "mole", "moose", "newt", "otter", "owl", "panda",
    "parrot", "pelican", "puffin", "quail", "rabbit", "raven", "robin", "salmon",
    "seal", "shark", "sloth", "swan", "tiger", "toad", "trout", "turtle",
    "walrus", "whale", "wolf", "yak",
)  # fmt: skip


def random_alias() -> str:
    """A random ``adjective-animal`` alias, not guaranteed unique."""
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(ANIMALS)}"
