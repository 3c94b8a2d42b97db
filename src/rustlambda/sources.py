"""Which file changes can alter a build, for ``rustlambda watch``: not the target dirs or the
lambda dir, not ``.git``, not what ``.gitignore`` files ignore, and not the temporary files
editors and tools write while saving (a rebuild for each would be wasted work, and an editor's
atomic save would otherwise rebuild twice)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import pathspec
from watchfiles import Change, DefaultFilter

#: Temporary files of editors and tools, by file name; watchfiles' own list (``*.sw?``, ``*~``,
#: ``.#*``, ``*.py[cod]``, ...) is kept too.
EDITOR_TEMP_FILES = (
    r"^sed[A-Za-z0-9]{6}$",  # sed -i: writes ./sedXXXXXX, then renames it over the file
    r"\.sw[a-p]$",  # vim's swap files (.swp, .swo, ... .swa) and .swx, its write test
    r"\.swx$",
    r"^#.*#$",  # emacs' auto-save file
    r"^\.#",  # emacs' lock file (a symlink)
    r"~$",  # vim's and emacs' backups
    r"___jb_(tmp|old|bak)___$",  # JetBrains' safe write
    r"\.tmp$",  # atomic saves of VS Code extensions, Sublime Text, many tools: file.tmp
    r"\.tmp\.\d+(\.\d+)*$",  # ... and file.tmp.1234 (rustfmt, some tools: PID suffixes)
    r"^\.goutputstream-",  # gedit and GTK's GIO
    r"\.kate-swp$",  # Kate
    r"\.crswap$",  # VS Code in a browser (and Chromium's file system access)
)
#: vim checks it may write a directory by creating the file 4913 (then 5036, 5159, ... while
#: that name is taken) and deleting it at once.
_VIM_PROBE_START, _VIM_PROBE_STEP = 4913, 123


def is_editor_temp_file(name: str) -> bool:
    """Whether a file named ``name`` is an editor's or tool's temporary file."""
    if name.isdigit():
        number = int(name)
        return number >= _VIM_PROBE_START and (number - _VIM_PROBE_START) % _VIM_PROBE_STEP == 0
    return _TEMP.search(name) is not None


_TEMP = re.compile("|".join(f"(?:{pattern})" for pattern in EDITOR_TEMP_FILES))


class SourceFilter(DefaultFilter):
    """Changes that can alter a build: not in target dirs, .git, anything .gitignore'd, or an
    editor's temporary file."""

    def __init__(self, root: Path, ignored_dirs: Sequence[Path]) -> None:
        super().__init__()
        self.root = root.resolve()
        self.ignored_dirs = tuple(p.resolve() for p in ignored_dirs)
        self._specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
        for gitignore in sorted(self._gitignores(), key=lambda p: len(p.parts)):
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            self._specs.append((gitignore.parent, pathspec.GitIgnoreSpec.from_lines(lines)))

    def _gitignores(self) -> list[Path]:
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = [
                d
                for d in dirnames
                if d not in self.ignore_dirs and not self._in_ignored_dir(here / d)
            ]
            if ".gitignore" in filenames:
                found.append(here / ".gitignore")
        return found

    def _in_ignored_dir(self, path: Path) -> bool:
        return any(path == d or d in path.parents for d in self.ignored_dirs)

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path) or is_editor_temp_file(os.path.basename(path)):
            return False
        resolved = Path(path).resolve()
        if self._in_ignored_dir(resolved):
            return False
        # As git does: deeper .gitignore files come later, and the last matching rule wins
        # (so a nested "!keep.log" brings back what the root's "*.log" ignored).
        ignored = False
        for base, spec in self._specs:
            try:
                relative = resolved.relative_to(base)
            except ValueError:
                continue
            verdict = spec.check_file(str(relative)).include
            if verdict is not None:
                ignored = verdict
        return not ignored
