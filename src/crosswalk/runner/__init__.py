"""The runner: crosswalk starts, follows, resumes and stops the coding agents itself.

``Supervisor`` holds the rules; ``TellService`` brings the person's messages to an agent
(resuming it when its run has ended); ``AnsweringScheduler`` resumes idle agents to
answer the questions waiting for them; ``providers`` the CLIs it can drive; ``git`` and
``processes`` the real adapters behind ``ports``. ``docs/runner.md`` explains it.
"""

from crosswalk.runner.answering import AnsweringScheduler
from crosswalk.runner.git import GitWorktrees
from crosswalk.runner.processes import OsProcesses
from crosswalk.runner.providers import default_providers
from crosswalk.runner.recorder import RunnerServices
from crosswalk.runner.settings import RunnerSettings
from crosswalk.runner.supervisor import CleanedAgent, SpawnRequest, Supervisor
from crosswalk.runner.telling import Delivery, TellService, Told, delivery_for

__all__ = [
    "AnsweringScheduler",
    "CleanedAgent",
    "Delivery",
    "GitWorktrees",
    "OsProcesses",
    "RunnerServices",
    "RunnerSettings",
    "SpawnRequest",
    "Supervisor",
    "TellService",
    "Told",
    "default_providers",
    "delivery_for",
]
