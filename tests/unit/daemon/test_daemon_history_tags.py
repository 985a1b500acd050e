"""The history tags of a real command action in a running daemon: <ipjailfailures> <ipfailures> and
<ipjailmatches> come from the store's merged bans, over the ban's jail or over every jail, the ban being
committed before its action runs."""

from __future__ import annotations

from pathlib import Path

from daemon_harness import Harness, jail_config, run

from banjail.daemon.wiring import ActionBuilder

A = "192.0.2.1"


def test_history_tags_merge_the_stored_bans(tmp_path: Path) -> None:
    out = tmp_path / "out"
    line = f"fail from {A}"

    async def scenario() -> None:
        h = Harness(tmp_path, [jail_config(), jail_config("web")])
        builder = ActionBuilder(str(tmp_path))
        builder.bind(h.daemon)
        h.daemon._build_action = builder.one
        await h.daemon.start()
        await h.controller.dispatch(["set", "test", "addaction", "cmd"])
        await h.controller.dispatch(
            [
                "set",
                "test",
                "action",
                "cmd",
                "actionban",
                f"printf '%s %s %s\\n' <ipjailfailures> <ipfailures> <ipjailmatches> >> {out}",
            ]
        )
        h.source("web").feed(*[line] * 3)  # web bans A first: 3 failures in the other jail
        await h.settle()
        h.source().feed(*[line] * 3)
        await h.settle()
        h.clock.advance(601)  # the ban ends: expiry keeps it in the history (a manual unban would delete it)
        await h.daemon.tick(h.clock.now())
        h.source().feed(*[line] * 3)
        await h.settle()
        await h.daemon.stop()

    run(scenario())
    three, six = "\n".join([line] * 3), "\n".join([line] * 6)
    # printf repeats its format for the lines beyond the first three arguments.
    assert out.read_text() == f"3 6 {three}\n" + f"6 9 {six}\n"
