"""Which files a logical config name reads, with the config dir laid over banjail's stock tree.

For a logical name X (e.g. "jail", "filter.d/sshd"): X.conf, X.d/*.conf (sorted), X.local, X.d/*.local (sorted),
as upstream. A `.conf` comes from the config dir if it is there, else from the stock tree; `.local` files and
`.d/` directories come from the config dir only (the stock tree is ours and never holds local settings).
A `filter.d/*.conf` in the config dir that is fail2ban's unmodified packaged file (banjail.config.packaged) counts
as absent when the stock tree has that file, unless `packaged` is FILE: the user never wrote it.

[INCLUDES] `before`/`after` name files relative to the including file; they resolve through the same overlay, and
each included file is followed by its `.local` sibling. Before-includes come before the file, after-includes after
it, recursively; a file that is already an ancestor in the include chain is skipped (loop-safe), as upstream does.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from banjail.config import packaged as packaged_files
from banjail.config.ini import ParsedFile, Tree, read_file
from banjail.errors import Problem

STOCK_DIR: Path = Path(__file__).resolve().parent.parent / "stock"
INCLUDES = "INCLUDES"


@dataclass(frozen=True, slots=True)
class Source:
    """One file to read: `key` identifies it for loop detection (logical name, or the absolute path of a file
    outside both trees); `path` is where it is on disk."""

    key: str
    path: Path
    logical: bool


@dataclass(slots=True)
class Overlay:
    """The config dir over the stock dir. Pure path logic plus existence checks; parsed files are cached."""

    config_dir: Path
    stock_dir: Path = STOCK_DIR
    notices: list[str] = field(default_factory=list)
    # Parsed files by path; callers reading many names in one go (load_config) share one dict.
    cache: dict[Path, ParsedFile] = field(default_factory=dict)
    # For a file outside both trees: where a bare include name (`common.conf`) is looked up in the overlay when
    # it is not beside the file ("filter.d" for a user's own filter file), so such a filter can reuse the library.
    include_fallback: str = ""
    # HARDENED: a packaged filter file gives way to the stock one; FILE: it is read as any file
    packaged: str = packaged_files.HARDENED
    # the packaged filter files met, in reading order (the main file of a filter first)
    replaced: list[packaged_files.Replacement] = field(default_factory=list)

    def conf(self, rel: str) -> Source | None:
        """The `.conf` (or any non-.local) file `rel`, from the config dir, else the stock tree."""
        for root in (self.config_dir, self.stock_dir):
            path = root / rel
            if path.is_file():
                if root is self.config_dir and self._packaged_filter(path, rel):
                    stock = self.stock_dir / rel
                    if stock.is_file():
                        self._note(packaged_files.Replacement(rel, str(path), str(stock)))
                        return Source(rel, stock, True)
                    self._note(packaged_files.Replacement(rel, str(path)))
                return Source(rel, path, True)
        return None

    def _packaged_filter(self, path: Path, rel: str) -> bool:
        return (
            self.packaged == packaged_files.HARDENED
            and rel.startswith("filter.d/")
            and rel.endswith(".conf")
            and packaged_files.is_packaged(path, rel)
        )

    def _note(self, found: packaged_files.Replacement) -> None:
        if found not in self.replaced:
            self.replaced.append(found)

    def local(self, rel: str) -> Source | None:
        path = self.config_dir / rel
        return Source(rel, path, True) if path.is_file() else None

    def source(self, rel: str) -> Source | None:
        return self.local(rel) if rel.endswith(".local") else self.conf(rel)

    def name_sources(self, name: str, *, conf_local: bool = False) -> list[Source]:
        """The top-level files of logical name `name`, in reading order (see the module doc).

        conf_local: also read `name.conf.local` right after `name.local` (banjail's rescue for jail.conf.local).
        """
        found: list[Source | None] = [self.conf(name + ".conf")]
        found += self._dir_files(name + ".d", ".conf")
        found.append(self.local(name + ".local"))
        if conf_local:
            extra = self.local(name + ".conf.local")
            if extra is not None:
                self.notices.append(
                    f"read {extra.path} after {name}.local: upstream fail2ban ignores {name}.conf.local, "
                    f"banjail reads it; consider renaming it to {name}.local"
                )
            found.append(extra)
        found += self._dir_files(name + ".d", ".local")
        return [s for s in found if s is not None]

    def _dir_files(self, rel_dir: str, suffix: str) -> list[Source | None]:
        directory = self.config_dir / rel_dir
        if not directory.is_dir():
            return []
        return [
            Source(f"{rel_dir}/{p.name}", p, True)
            for p in sorted(directory.iterdir(), key=lambda p: p.name)
            if p.name.endswith(suffix) and p.is_file()
        ]

    def parsed(self, source: Source) -> ParsedFile:
        cached = self.cache.get(source.path)
        if cached is None:
            cached = self.cache[source.path] = read_file(source.path)
        return cached

    def read(self, sources: list[Source]) -> Tree:
        """Read `sources` with their includes and `.local` siblings into one Tree."""
        tree = Tree()
        ordered: list[Source] = []
        for source in self._with_locals(sources):
            ordered += self._expand(source, (), tree)
        for source in ordered:
            tree.merge(self.parsed(source))
        return tree

    def read_name(self, name: str, *, conf_local: bool = False) -> Tree:
        return self.read(self.name_sources(name, conf_local=conf_local))

    def _with_locals(self, sources: list[Source]) -> list[Source]:
        keys = {s.key for s in sources}
        out: list[Source] = []
        for source in sources:
            out.append(source)
            sibling = self._sibling_local(source)
            if sibling is not None and sibling.key not in keys:
                out.append(sibling)
        return out

    def _sibling_local(self, source: Source) -> Source | None:
        if source.key.endswith(".local"):
            return None
        stem = source.key.rsplit(".", 1)[0] if "." in posixpath.basename(source.key) else source.key
        if source.logical:
            return self.local(stem + ".local")
        path = Path(stem + ".local")
        return Source(str(path), path, False) if path.is_file() else None

    def _expand(self, source: Source, seen: tuple[str, ...], tree: Tree) -> list[Source]:
        parsed = self.parsed(source)
        includes = parsed.sections.get(INCLUDES)
        if not includes:
            return [source]
        before: list[Source] = []
        after: list[Source] = []
        # The include list may itself use %(...)s from the including file's [DEFAULT] or [INCLUDES].
        local = Tree()
        local.merge(ParsedFile(parsed.path, parsed.defaults, {INCLUDES: includes}))
        for option, bucket in (("before", before), ("after", after)):
            entry = includes.get(option)
            if entry is None:
                continue
            try:
                value = local.interpolate(entry, INCLUDES, option)
            except Exception as exc:  # InterpolationError: report and read no includes from this option
                tree.problems.append(Problem(str(exc), entry.file, entry.line, INCLUDES, option))
                continue
            for name in value.split("\n"):
                name = name.strip()
                if not name:
                    continue
                target = self._include_target(source, name)
                if target is None:
                    if name.endswith(".local"):
                        continue  # optional by convention (common.local, paths-overrides.local)
                    tree.problems.append(
                        Problem(
                            f"included file {name!r} not found",
                            entry.file,
                            entry.line,
                            INCLUDES,
                            option,
                            severity="warning",
                            fix="create it or remove it from the list",
                        )
                    )
                    continue
                if target.key in seen or target.key == source.key:
                    continue
                for item in self._with_locals([target]):
                    bucket += self._expand(item, (*seen, source.key), tree)
        return [*before, source, *after]

    def _include_target(self, source: Source, name: str) -> Source | None:
        if source.logical and not name.startswith("/"):
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(source.key), name))
            if not rel.startswith("../"):
                return self.source(rel)
        path = Path(name) if name.startswith("/") else source.path.parent / name
        for root in (self.config_dir, self.stock_dir):
            try:
                rel = path.resolve().relative_to(root.resolve()).as_posix()
            except (ValueError, OSError):
                continue
            return self.source(rel)
        if path.is_file():
            return Source(str(path), path, False)
        if self.include_fallback and "/" not in name:
            return self.source(f"{self.include_fallback}/{name}")
        return None
