"""Python actions: upstream's `action.d/*.py` shape (a module defining `Action`, a subclass of upstream's
ActionBase, built as `Action(jail, name, **arguments)` and called with `ban(aInfo)`...), run without fail2ban.

The module is executed with its own `__import__`: `fail2ban.server.action(s)` resolve to the small compatible
ActionBase and CallingMap below, everything else imports normally. Its methods block (smtplib...), so they run
in a worker thread; one action runs one call at a time.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
import types
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from banjail.actions.tags import BanInfo, HistoryLookup, family_of
from banjail.config.schema import ActionSpec
from banjail.errors import ActionError, ConfigError, Problem
from banjail.model import Ban

log = logging.getLogger("banjail.actions")


class CallingMap(MutableMapping[str, Any]):
    """A mapping whose callable values are called on first read (with the map when they take an argument)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.data: dict[str, Any] = dict(*args, **kwargs)
        self.storage: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.storage:
            return self.storage[key]
        value = self.data[key]
        if callable(value):
            code = getattr(value, "__code__", None)
            value = value(self) if code is not None and code.co_argcount else value()
            self.storage[key] = value
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.storage[key] = value
        self.data.setdefault(key, value)

    def __delitem__(self, key: str) -> None:
        self.storage.pop(key, None)
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def copy(self) -> CallingMap:
        return CallingMap({**self.data, **self.storage})


class ActionBase:
    """What upstream's Python actions inherit: the jail, the name and a logger; no-op lifecycle methods."""

    def __init__(self, jail: Any, name: str) -> None:
        self._jail = jail
        self._name = name
        self._logSys = logging.getLogger(f"banjail.actions.{type(self).__name__}")

    def start(self) -> None:
        """Called when the jail starts."""

    def stop(self) -> None:
        """Called when the jail stops."""

    def ban(self, aInfo: Any) -> None:
        """Called for each ban."""

    def reban(self, aInfo: Any) -> None:
        self.ban(aInfo)

    def unban(self, aInfo: Any) -> None:
        """Called for each unban."""


class _JailActions:
    def __init__(self, bantime: float) -> None:
        self._bantime = bantime

    def getBanTime(self) -> float:
        return self._bantime


class JailView:
    """The part of upstream's Jail object Python actions use: `name`, `actions.getBanTime()`."""

    def __init__(self, name: str, bantime: float = 600.0) -> None:
        self.name = name
        self.actions = _JailActions(bantime)
        self.database = None


def _shim_modules() -> dict[str, types.ModuleType]:
    modules: dict[str, types.ModuleType] = {}
    for name in ("fail2ban", "fail2ban.server", "fail2ban.server.action", "fail2ban.server.actions"):
        module = types.ModuleType(name)
        module.__dict__.update(ActionBase=ActionBase, CallingMap=CallingMap)
        modules[name] = module
    modules["fail2ban"].server = modules["fail2ban.server"]  # type: ignore[attr-defined]
    modules["fail2ban.server"].action = modules["fail2ban.server.action"]  # type: ignore[attr-defined]
    modules["fail2ban.server"].actions = modules["fail2ban.server.actions"]  # type: ignore[attr-defined]
    return modules


def load_action_class(path: Path) -> type[Any]:
    """Execute the action file at `path` and return its `Action` class; ConfigError when it has none."""
    shims = _shim_modules()

    def scoped_import(
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> types.ModuleType:
        if level == 0 and name.split(".", 1)[0] == "fail2ban":
            if name not in shims:
                raise ImportError(f"banjail provides only {sorted(shims)} to Python actions, not {name}")
            return shims[name] if fromlist else shims["fail2ban"]
        return builtins.__import__(name, globals, locals, fromlist, level)

    try:
        source = path.read_text(encoding="utf-8")
        module = types.ModuleType(f"banjail_action_{path.stem.replace('-', '_')}")
        module.__dict__.update(
            __file__=str(path), __builtins__={**vars(builtins), "__import__": scoped_import}
        )
        exec(compile(source, str(path), "exec"), module.__dict__)
    except (OSError, SyntaxError, ImportError) as exc:
        raise ConfigError(Problem(f"cannot load Python action: {exc}", str(path))) from None
    action = module.__dict__.get("Action")
    if not isinstance(action, type):
        raise ConfigError(Problem("defines no class named Action", str(path), fix="add `Action = YourClass`"))
    return action


def action_info(ban: Ban, history: HistoryLookup | None = None) -> CallingMap:
    """Upstream's aInfo for a ban: tag names to lazily computed values, numbers as numbers."""
    info = BanInfo(ban, family_of(ban), history=history)
    numbers = {"failures", "bancount", "restored", "ipfailures", "ipjailfailures", "bantime"}

    def getter(tag: str) -> Callable[[], Any]:
        def get() -> Any:
            value = info.value(tag) or ""
            return int(value) if tag in numbers else float(value) if tag == "time" else value

        return get

    tags = (
        "ip",
        "family",
        "ip-rev",
        "ip-host",
        "fid",
        "time",
        "matches",
        "ipmatches",
        "ipjailmatches",
        "raw-ticket",
        *numbers,
    )
    data: dict[str, Any] = {tag: getter(tag) for tag in tags}
    data["F-*"] = lambda: dict(ban.groups)
    return CallingMap(data)


class PythonAction:
    """An upstream-style `.py` action behind banjail's Action contract."""

    def __init__(
        self,
        spec: ActionSpec,
        *,
        jail: str,
        history: HistoryLookup | None = None,
        clock: Callable[[], float] = time.time,
        bantime: float = 600.0,
    ) -> None:
        self.spec = spec
        self._history = history
        self._clock = clock
        arguments = {k: v for k, v in spec.options.items() if k not in ("actname",)}
        cls = load_action_class(Path(spec.file))
        try:
            self._impl = cls(JailView(jail, bantime), spec.name, **arguments)
        except Exception as exc:
            raise ConfigError(Problem(f"cannot create the action: {exc}", spec.file)) from None
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    async def _call(self, method: str, *args: Any) -> None:
        function = getattr(self._impl, method, None)
        if function is None:
            return
        async with self._lock:
            try:
                await asyncio.to_thread(function, *args)
            except Exception as exc:
                raise ActionError(f"action {self.name}: {method} failed: {exc}") from exc

    async def start(self) -> None:
        await self._call("start")

    async def stop(self) -> None:
        await self._call("stop")

    async def ban(self, bans: Sequence[Ban]) -> None:
        norestored = bool(getattr(self._impl, "norestored", False))
        for ban in bans:
            if not (ban.restored and norestored):
                await self._call("ban", action_info(ban, self._history))

    async def unban(self, bans: Sequence[Ban]) -> None:
        for ban in bans:
            await self._call("unban", action_info(ban, self._history))

    async def flush(self) -> None:
        await self._call("flush")

    def properties(self) -> Mapping[str, str]:
        return {k: str(v) for k, v in vars(self._impl).items() if not k.startswith("_") and not callable(v)}

    def set_property(self, key: str, value: str) -> None:
        setattr(self._impl, key, value)
