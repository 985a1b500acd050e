"""A jail's actions changed at run time: `set <jail> addaction <ACT> [<PYTHONFILE> <JSONKWARGS>]` and
`set <jail> delaction <ACT>`, with upstream's replies and error texts.

- addaction without a file adds an empty command action (its commands are then given with
  `set <jail> action <ACT> <PROPERTY> <VALUE>`, as upstream's client does); with a file, the file's `Action`
  class built with the JSON object's items as arguments (values that are not text are passed as their JSON text,
  as an action.d file would give them). The new action is started on the jail's action queue (after the jobs
  already queued) and takes part in every later ban and unban; it is not handed the bans already in force.
- delaction removes the action from the jail at once (later jobs no longer reach it) and queues its stop, so a
  firewall action removes its rules instead of leaving them without an owner. Upstream 1.0.2 only forgets the
  action; the replies are the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from banjail.config.schema import ActionSpec
from banjail.daemon.jail import ActionJob, Jail
from banjail.errors import BanjailError, ControlError

if TYPE_CHECKING:
    from banjail.actions.base import Action
    from banjail.daemon.app import Daemon

INVALID = "Sorry but the command is invalid"


def unknown_action(name: str) -> ControlError:
    """Upstream's error for an action the jail does not have (its client prints the KeyError's quotes)."""
    return ControlError(f"'Invalid Action name: {name}'")


def action(jail: Jail, name: str) -> Action:
    """The jail's action `name`; ControlError with upstream's text when there is none."""
    found = jail.actions.get(name)
    if found is None:
        raise unknown_action(name)
    return found


def spec_of(args: Sequence[str]) -> ActionSpec:
    """The ActionSpec `addaction` args describe: [ACT] or [ACT, PYTHONFILE, JSONKWARGS] (more are ignored, as
    upstream). Raises ControlError with
    upstream's texts: the JSON parser's message, or the OSError of a file that cannot be read."""
    if len(args) == 2:  # a file without its arguments
        raise ControlError(INVALID)
    name = args[0]
    if len(args) == 1:
        return ActionSpec(name=name, file="")
    try:
        kwargs = json.loads(args[2])
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    if not isinstance(kwargs, dict):
        raise ControlError(
            f"the arguments of action {name!r} must be a JSON object, not {args[2]!r} (e.g. '{{\"port\": \"22\"}}')"
        )
    path = args[1]
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ControlError(str(exc)) from None
    options = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in kwargs.items()}
    return ActionSpec(name=name, file=path, options=options, python=True)


async def add(daemon: Daemon, jail: Jail, args: Sequence[str]) -> str:
    """`set <jail> addaction ...`: returns the action's name (upstream's reply)."""
    if not args:
        raise ControlError(INVALID)
    if args[0] in jail.actions:
        raise ControlError(f"Action {args[0]} already exists")
    spec = spec_of(args)
    try:
        built = daemon.build_action(jail.config, spec)
    except BanjailError as exc:
        raise ControlError(str(exc)) from None
    jail.actions[spec.name] = built
    if started(jail):
        await daemon.enqueue(jail, ActionJob("start", action=built))
    return spec.name


async def delete(daemon: Daemon, jail: Jail, args: Sequence[str]) -> None:
    """`set <jail> delaction <ACT>`: upstream's reply is None."""
    if not args:
        raise ControlError(INVALID)
    removed = action(jail, args[0])
    del jail.actions[args[0]]
    if started(jail):
        await daemon.enqueue(jail, ActionJob("stop", action=removed))


def started(jail: Jail) -> bool:
    """Whether the jail's action queue has a worker (the jail was started and not stopped)."""
    return any(t.get_name().startswith("actions:") for t in jail.tasks)
