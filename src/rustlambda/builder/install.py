"""Installing a build's artifacts into the lambda dir: all of them or none, and only after every
check passed.

Each executable and zip of a build is first written to a staging folder inside the lambda dir
(``.rustlambda-staging-<pid>-*``: hidden, so nothing scans it, and on the same filesystem, so
installing is renaming), laid out as the lambda dir is. The build verifies the staged files;
only when every check passed does `Staging.commit` rename them into place, with the signals
held (`signals.deferred`) and each file it replaces kept as a hard link until every rename
succeeded, so a failure halfway puts the previous artifacts back. The staging folder is
removed whatever happens; one left by a rustlambda that was killed (its pid is gone) is removed
by the next build into that lambda dir.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from ..errors import ArtifactError
from ..util import signals
from ..util.fs import file_error

PREFIX = ".rustlambda-staging-"
_HINT = "build into another folder (--lambda-dir DIR)"


class Staging:
    """A build's staged artifacts, and the renames that install them (see the module doc)."""

    def __init__(self, lambda_dir: Path) -> None:
        self.lambda_dir = lambda_dir
        self.root = lambda_dir / PREFIX  # set by __enter__
        self.committed = False
        self._moves: dict[Path, Path] = {}  # final -> staged

    def __enter__(self) -> Staging:
        try:
            self.lambda_dir.mkdir(parents=True, exist_ok=True)
            _remove_abandoned(self.lambda_dir)
            prefix = f"{PREFIX}{os.getpid()}-"
            self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=self.lambda_dir))
        except OSError as exc:
            raise file_error(exc, self.lambda_dir, "write to the lambda dir", hint=_HINT) from exc
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def place(self, final: Path) -> Path:
        """Where ``final`` (a path in the lambda dir) is staged; its folder exists."""
        staged = self.root / final.relative_to(self.lambda_dir)
        try:
            staged.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise file_error(exc, final, "install", hint=_HINT) from exc
        self._moves[final] = staged
        return staged

    def staged(self, final: Path) -> Path:
        """The staged file for ``final``, or ``final`` itself when it is not replaced (a zip
        already identical to what the build would write)."""
        return self._moves.get(final, final)

    def commit(self) -> None:
        """Rename every staged file into place: all of them, or none (the previous files back)."""
        with signals.deferred():
            self._check()
            backups = self._backups()
            done: list[Path] = []
            try:
                for final, staged in self._moves.items():
                    os.replace(staged, final)
                    done.append(final)
            except OSError as exc:
                error = file_error(exc, final, "install", hint=_HINT)
                error.add_context(self._rollback(done, backups))
                raise error from exc
            self.committed = True

    def _check(self) -> None:
        """What would make a rename fail, found before the first one."""
        for final in self._moves:
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise file_error(exc, final, "install", hint=_HINT) from exc
            if final.is_dir() and not final.is_symlink():
                raise ArtifactError(
                    f"cannot install {final}: a folder is in its place",
                    f"remove or rename the folder {final}, then build again",
                )

    def _backups(self) -> dict[Path, Path]:
        """A hard link (a copy where links are refused) to every file about to be replaced."""
        backups: dict[Path, Path] = {}
        folder = self.root / ".previous"
        for index, final in enumerate(self._moves):
            if not os.path.lexists(final):
                continue
            backup = folder / str(index)
            try:
                folder.mkdir(exist_ok=True)
                try:
                    os.link(final, backup, follow_symlinks=False)
                except OSError:
                    shutil.copy2(final, backup, follow_symlinks=False)
            except OSError as exc:
                raise file_error(exc, final, "keep a copy of", hint=_HINT) from exc
            backups[final] = backup
        return backups

    def _rollback(self, done: list[Path], backups: dict[Path, Path]) -> str:
        failed: list[str] = []
        for final in reversed(done):
            try:
                if final in backups:
                    os.replace(backups[final], final)
                else:
                    final.unlink()
            except OSError as exc:
                failed.append(f"{final} ({exc.strerror or exc})")
        if failed:
            return "; could not put back the previous " + ", ".join(failed)
        return "; nothing was installed: the previous artifacts are in place"


def _remove_abandoned(lambda_dir: Path) -> None:
    """Staging folders of rustlambda processes that no longer exist (killed mid-build)."""
    for entry in lambda_dir.iterdir():
        if not entry.name.startswith(PREFIX):
            continue
        pid_text = entry.name[len(PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


__all__ = ["PREFIX", "Staging"]
