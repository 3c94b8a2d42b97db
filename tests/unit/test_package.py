"""Lambda zips: reproducible bytes, Unix modes, layouts, include safety, atomic writes."""

from __future__ import annotations

import hashlib
import os
import signal
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rustlambda.errors import ArtifactError, ConfigError, IncludeError, RustLambdaError
from rustlambda.package import (
    ZipEntry,
    extension_zip_entries,
    function_zip_entries,
    include_entries,
    write_zip,
    zip_date_time,
)

ELF = b"\x7fELF" + bytes(range(256)) * 64
NO_EPOCH: dict[str, str] = {}


def make_project(root: Path, *, reverse: bool = False) -> Path:
    """A workspace with a bootstrap, a config folder (an executable script, an empty folder)."""
    files = [
        ("target/lambda/app/bootstrap", ELF, 0o755),
        ("config/app.toml", b"level = 'info'\n", 0o666),
        ("config/run.sh", b"#!/bin/sh\necho hi\n", 0o777),
        ("config/nested/deep.json", b"{}\n", 0o666),
        ("settings.json", b'{"a": 1}\n', 0o666),
    ]
    for rel, data, mode in reversed(files) if reverse else files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # os.open applies the umask, like a compiler or editor creating the file would.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    (root / "config" / "empty").mkdir()
    return root


def package(root: Path, dest: Path, *specs: str, environ: dict[str, str] | None = None) -> bytes:
    entries = function_zip_entries(
        root / "target/lambda/app/bootstrap", include_entries(specs, root)
    )
    result = write_zip(dest, entries, environ=NO_EPOCH if environ is None else environ)
    data = dest.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    return data


def modes(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: i.external_attr >> 16 for i in archive.infolist()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "ws")


# --- layout and modes ----------------------------------------------------------------------


def test_function_zip_is_bootstrap_at_the_root_executable_even_if_the_file_is_not(
    tmp_path: Path,
) -> None:
    binary = tmp_path / "app"
    binary.write_bytes(ELF)
    binary.chmod(0o600)
    dest = tmp_path / "lambda" / "app" / "bootstrap.zip"

    result = write_zip(dest, function_zip_entries(binary, []), environ=NO_EPOCH)

    with zipfile.ZipFile(dest) as archive:
        (info,) = archive.infolist()
        assert info.filename == "bootstrap"
        assert info.external_attr >> 16 == 0o100755
        assert info.create_system == 3
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.extra == b""
        assert archive.read("bootstrap") == ELF
    assert result.entries == ("bootstrap",)
    assert result.size == dest.stat().st_size
    assert result.unzipped_size == len(ELF)
    assert dest.stat().st_mode & 0o777 == 0o644


def test_every_entry_has_a_normalized_unix_mode(project: Path, tmp_path: Path) -> None:
    dest = tmp_path / "bootstrap.zip"
    package(project, dest, "config", "settings.json")

    assert modes(dest) == {
        "bootstrap": 0o100755,
        "config/": 0o040755,
        "config/app.toml": 0o100644,
        "config/empty/": 0o040755,
        "config/nested/": 0o040755,
        "config/nested/deep.json": 0o100644,
        "config/run.sh": 0o100755,
        "settings.json": 0o100644,
    }
    with zipfile.ZipFile(dest) as archive:
        assert {i.create_system for i in archive.infolist()} == {3}
        assert archive.read("config/run.sh") == b"#!/bin/sh\necho hi\n"


def test_entries_are_sorted_folders_before_their_contents(project: Path, tmp_path: Path) -> None:
    dest = tmp_path / "bootstrap.zip"
    package(project, dest, "settings.json", "config")

    with zipfile.ZipFile(dest) as archive:
        assert archive.namelist() == [
            "bootstrap",
            "config/",
            "config/app.toml",
            "config/empty/",
            "config/nested/",
            "config/nested/deep.json",
            "config/run.sh",
            "settings.json",
        ]


def test_external_extension_lives_in_extensions_folder(tmp_path: Path) -> None:
    binary = tmp_path / "my-ext"
    binary.write_bytes(ELF)
    dest = tmp_path / "extensions" / "my-ext.zip"

    result = write_zip(
        dest, extension_zip_entries(binary, "my-ext", internal=False), environ=NO_EPOCH
    )

    assert result.entries == ("extensions/", "extensions/my-ext")
    assert modes(dest) == {"extensions/": 0o040755, "extensions/my-ext": 0o100755}


def test_internal_extension_lives_at_the_root(tmp_path: Path) -> None:
    binary = tmp_path / "my-ext"
    binary.write_bytes(ELF)
    dest = tmp_path / "extensions" / "my-ext.zip"

    write_zip(dest, extension_zip_entries(binary, "my-ext", internal=True), environ=NO_EPOCH)

    assert modes(dest) == {"my-ext": 0o100755}


def test_extension_zip_merges_an_included_extensions_folder(tmp_path: Path) -> None:
    make_project(tmp_path)
    (tmp_path / "extensions").mkdir()
    (tmp_path / "extensions" / "helper.txt").write_text("x")
    includes = include_entries(["extensions", "config/app.toml"], tmp_path)

    entries = extension_zip_entries(
        tmp_path / "target/lambda/app/bootstrap", "my-ext", internal=False, includes=includes
    )

    assert [e.arcname for e in entries] == [
        "config/",
        "config/app.toml",
        "extensions/",
        "extensions/helper.txt",
        "extensions/my-ext",
    ]


# --- includes ------------------------------------------------------------------------------


def names(entries: list[ZipEntry]) -> list[str]:
    return [e.arcname for e in entries]


def test_include_path_keeps_its_relative_path(project: Path) -> None:
    assert names(include_entries(["config/nested/"], project)) == [
        "config/",
        "config/nested/",
        "config/nested/deep.json",
    ]


def test_include_dest_src_renames(project: Path) -> None:
    entries = include_entries(["etc/app:config/nested", "conf/s.json:settings.json"], project)

    assert names(entries) == [
        "conf/",
        "conf/s.json",
        "etc/",
        "etc/app/",
        "etc/app/deep.json",
    ]
    by_name = {e.name: e for e in entries}
    assert by_name["conf/s.json"].source == (project / "settings.json").resolve()


def test_include_folder_contents_at_the_zip_root(project: Path) -> None:
    assert names(include_entries([".:config/nested"], project)) == ["deep.json"]


def test_overlapping_includes_of_the_same_file_are_one_entry(project: Path) -> None:
    entries = include_entries(["config", "config/app.toml"], project)

    assert names(entries).count("config/app.toml") == 1


def test_symlink_to_a_file_inside_the_project_is_stored_as_a_regular_file(
    project: Path, tmp_path: Path
) -> None:
    (project / "config" / "link.toml").symlink_to("app.toml")
    (project / "config" / "dirlink").symlink_to("nested", target_is_directory=True)
    dest = tmp_path / "bootstrap.zip"

    package(project, dest, "config")

    with zipfile.ZipFile(dest) as archive:
        assert archive.read("config/link.toml") == b"level = 'info'\n"
        assert archive.read("config/dirlink/deep.json") == b"{}\n"
    assert modes(dest)["config/link.toml"] == 0o100644
    assert modes(dest)["config/dirlink/"] == 0o040755


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("../x", "outside the zip root"),
        ("config/../../x", "outside the zip root"),
        ("/etc:config", "absolute"),
        ("a/../../b:config", "outside the zip root"),
        ("x:../outside", "outside the project root"),
        ("x:config/../../outside", "outside the project root"),
        ("does-not-exist", "does not exist"),
        ("x:", "names no file"),
        (":", "names no file"),
        ("settings.json/..", "outside the zip root"),
        (".:settings.json", "needs a name"),
    ],
)
def test_unsafe_or_missing_includes_are_refused(project: Path, spec: str, says: str) -> None:
    (project.parent / "outside").write_text("secret")

    with pytest.raises(IncludeError) as info:
        include_entries([spec], project)

    assert says in info.value.message
    assert spec in info.value.message
    assert info.value.fix
    assert info.value.exit_code == 14


def test_absolute_include_path_without_destination_is_refused(project: Path) -> None:
    with pytest.raises(IncludeError, match="absolute path has no place"):
        include_entries([str(project / "config")], project)


def test_absolute_source_inside_the_project_is_fine_with_a_destination(project: Path) -> None:
    entries = include_entries([f"c:{project / 'config' / 'nested'}"], project)

    assert names(entries) == ["c/", "c/deep.json"]


def test_symlink_pointing_outside_the_project_is_refused(project: Path) -> None:
    secret = project.parent / "secret.txt"
    secret.write_text("password")
    (project / "config" / "creds").symlink_to(secret)

    with pytest.raises(IncludeError) as info:
        include_entries(["config"], project)

    assert "outside the project root" in info.value.message
    assert "creds" in info.value.message


def test_symlinked_folder_loop_is_refused_not_followed_forever(project: Path) -> None:
    (project / "config" / "nested" / "loop").symlink_to("..", target_is_directory=True)

    with pytest.raises(IncludeError) as info:
        include_entries(["config"], project)

    assert "recurse forever" in info.value.message
    assert "loop" in info.value.message


def test_symlink_to_the_project_root_is_refused(project: Path) -> None:
    (project / "config" / "up").symlink_to(project, target_is_directory=True)

    with pytest.raises(IncludeError, match="recurse forever"):
        include_entries(["config"], project)


def test_self_referencing_symlink_is_refused(project: Path) -> None:
    (project / "config" / "self").symlink_to("self")

    with pytest.raises(IncludeError, match="symlink loop"):
        include_entries(["config"], project)


def test_broken_symlink_is_refused(project: Path) -> None:
    (project / "config" / "gone").symlink_to("nowhere")

    with pytest.raises(IncludeError, match="does not exist"):
        include_entries(["config"], project)


def test_fifo_is_refused(project: Path) -> None:
    os.mkfifo(project / "config" / "pipe")

    with pytest.raises(IncludeError, match="neither a regular file"):
        include_entries(["config"], project)


def test_name_that_is_not_utf8_is_refused(project: Path) -> None:
    (project / "config" / os.fsdecode(b"caf\xe9.txt")).write_text("x")

    with pytest.raises(IncludeError, match="UTF-8"):
        include_entries(["config"], project)


@pytest.mark.parametrize("spec", ["bootstrap:settings.json", "bootstrap:config"])
def test_include_colliding_with_bootstrap_is_refused(project: Path, spec: str) -> None:
    includes = include_entries([spec], project)

    with pytest.raises(IncludeError) as info:
        function_zip_entries(project / "target/lambda/app/bootstrap", includes)

    assert "collides with the bootstrap" in info.value.message


def test_include_colliding_with_the_extension_is_refused(project: Path) -> None:
    includes = include_entries(["extensions/my-ext:settings.json"], project)

    with pytest.raises(IncludeError, match="collides with the extension"):
        extension_zip_entries(
            project / "target/lambda/app/bootstrap", "my-ext", internal=False, includes=includes
        )


def test_file_where_the_extensions_folder_goes_is_refused(project: Path) -> None:
    includes = include_entries(["extensions:settings.json"], project)

    with pytest.raises(IncludeError, match="both a file"):
        extension_zip_entries(
            project / "target/lambda/app/bootstrap", "my-ext", internal=False, includes=includes
        )


def test_two_different_files_at_one_name_are_refused(project: Path) -> None:
    with pytest.raises(IncludeError, match="two files would be stored as cfg"):
        include_entries(["cfg:settings.json", "cfg:config/app.toml"], project)


def test_file_and_folder_at_one_name_are_refused(project: Path) -> None:
    with pytest.raises(IncludeError, match="both a file"):
        include_entries(["cfg:settings.json", "cfg:config"], project)


def test_zip_entry_rejects_unnormalized_names_and_odd_modes(tmp_path: Path) -> None:
    for name in ("../x", "/x", "a//b", "a/./b", "x/", ""):
        with pytest.raises(ValueError):
            ZipEntry(name, tmp_path, 0o644)
    with pytest.raises(ValueError):
        ZipEntry("x", tmp_path, 0o600)
    with pytest.raises(ValueError):
        ZipEntry("d", None, 0o644)


def test_include_error_is_a_rustlambda_error_with_its_own_exit_code() -> None:
    assert issubclass(IncludeError, RustLambdaError)
    assert IncludeError.exit_code == 14


# --- reproducibility -----------------------------------------------------------------------


def test_same_content_same_bytes_whatever_the_mtimes(project: Path, tmp_path: Path) -> None:
    first = package(project, tmp_path / "one.zip", "config", "settings.json")
    for path in [project / "settings.json", *(project / "config").rglob("*")]:
        os.utime(path, (1_234_567_890, 1_234_567_890))
    os.utime(project / "target/lambda/app/bootstrap", (2_000_000_000, 2_000_000_000))

    second = package(project, tmp_path / "two.zip", "config", "settings.json")

    assert second == first


def test_same_content_same_bytes_whatever_the_umask_and_creation_order(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        loose = make_project(tmp_path / "loose")
        os.umask(0o077)
        strict = make_project(tmp_path / "strict", reverse=True)
    finally:
        os.umask(old)
    assert (strict / "settings.json").stat().st_mode & 0o777 == 0o600  # the setup differs
    assert (loose / "settings.json").stat().st_mode & 0o777 == 0o644

    first = package(loose, tmp_path / "one.zip", "config", "settings.json")
    second = package(strict, tmp_path / "two.zip", "config", "settings.json")

    assert second == first


def test_directory_listing_order_does_not_matter(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = package(project, tmp_path / "one.zip", "config")
    real_scandir = os.scandir

    class Reversed:
        def __init__(self, path: str | os.PathLike[str]) -> None:
            with real_scandir(path) as listing:
                self.entries = sorted(listing, key=lambda e: e.name, reverse=True)

        def __enter__(self) -> Iterator[os.DirEntry[str]]:
            return iter(self.entries)

        def __exit__(self, *exc: object) -> None:
            pass

        def __iter__(self) -> Iterator[os.DirEntry[str]]:
            return iter(self.entries)

    monkeypatch.setattr(os, "scandir", Reversed)

    assert package(project, tmp_path / "two.zip", "config") == first


def test_epoch_unset_and_epoch_at_the_zip_minimum_give_the_same_bytes(
    project: Path, tmp_path: Path
) -> None:
    unset = package(project, tmp_path / "one.zip", "config")
    at_1980 = package(
        project, tmp_path / "two.zip", "config", environ={"SOURCE_DATE_EPOCH": "315532800"}
    )
    before_1980 = package(
        project, tmp_path / "three.zip", "config", environ={"SOURCE_DATE_EPOCH": "0"}
    )

    assert at_1980 == unset
    assert before_1980 == unset


def test_source_date_epoch_sets_every_entry_time(project: Path, tmp_path: Path) -> None:
    default = package(project, tmp_path / "one.zip", "config")
    epoch = 1_700_000_000
    dated = package(
        project, tmp_path / "two.zip", "config", environ={"SOURCE_DATE_EPOCH": str(epoch)}
    )

    assert dated != default
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    expected = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    assert expected == (2023, 11, 14, 22, 13, 20)
    with zipfile.ZipFile(tmp_path / "two.zip") as archive:
        assert {i.date_time for i in archive.infolist()} == {expected}
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", (1980, 1, 1, 0, 0, 0)),
        ("1", (1980, 1, 1, 0, 0, 0)),
        ("1700000001", (2023, 11, 14, 22, 13, 20)),  # a zip stores even seconds
        ("4354819199", (2107, 12, 31, 23, 59, 58)),
        ("9" * 5000, (2107, 12, 31, 23, 59, 58)),
    ],
)
def test_zip_date_time_is_clamped_to_what_a_zip_holds(
    value: str, expected: tuple[int, ...]
) -> None:
    assert zip_date_time({"SOURCE_DATE_EPOCH": value}) == expected


@pytest.mark.parametrize("value", ["abc", "-5", "1.5", " 17", "0x10"])
def test_malformed_source_date_epoch_is_an_error(value: str) -> None:
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        zip_date_time({"SOURCE_DATE_EPOCH": value})


# --- atomic writes -------------------------------------------------------------------------


def test_failed_write_keeps_the_previous_zip_and_leaves_no_temp_file(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lambda" / "app"
    dest = out / "bootstrap.zip"
    before = package(project, dest, "config")
    includes = include_entries(["config"], project)
    (project / "config" / "run.sh").unlink()  # vanishes after listing, before writing

    with pytest.raises(ArtifactError) as info:
        write_zip(
            dest,
            function_zip_entries(project / "target/lambda/app/bootstrap", includes),
            environ=NO_EPOCH,
        )

    assert "run.sh" in info.value.message
    assert info.value.fix
    assert dest.read_bytes() == before
    assert [p.name for p in out.iterdir()] == ["bootstrap.zip"]


def test_failed_first_write_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"

    with pytest.raises(ArtifactError, match="cannot read"):
        write_zip(
            out / "bootstrap.zip",
            function_zip_entries(tmp_path / "missing-binary", []),
            environ=NO_EPOCH,
        )

    assert list(out.iterdir()) == []


def test_source_replaced_by_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "binary")  # opening it for reading would block without O_NONBLOCK

    def hung(signum: int, frame: object) -> None:
        raise AssertionError("write_zip blocked opening a FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        with pytest.raises(ArtifactError, match="not a regular file"):
            write_zip(
                tmp_path / "bootstrap.zip",
                function_zip_entries(tmp_path / "binary", []),
                environ=NO_EPOCH,
            )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    assert [p.name for p in tmp_path.iterdir()] == ["binary"]


# --- sizes ---------------------------------------------------------------------------------


# --- an unchanged zip is kept, not deflated again -------------------------------------------
def test_unchanged_zip_is_kept_and_any_change_rewrites_it(project: Path, tmp_path: Path) -> None:
    dest = tmp_path / "bootstrap.zip"
    first = package(project, dest, "config")
    stamp = dest.stat()
    again = package(project, dest, "config")
    assert again == first
    assert (dest.stat().st_ino, dest.stat().st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)

    # same size, different content: compared byte for byte, so rewritten
    script = project / "config" / "run.sh"
    script.write_bytes(script.read_bytes().replace(b"hi", b"ho"))
    changed = package(project, dest, "config")
    assert changed != first
    with zipfile.ZipFile(dest) as archive:
        assert archive.read("config/run.sh").endswith(b"echo ho\n")

    # the exec bit is part of the entry: rewritten
    os.chmod(script, 0o644)
    assert modes(dest)["config/run.sh"] == 0o100755
    package(project, dest, "config")
    assert modes(dest)["config/run.sh"] == 0o100644

    # a different timestamp (SOURCE_DATE_EPOCH) or entry list: rewritten
    before = dest.read_bytes()
    assert package(project, dest, "config", environ={"SOURCE_DATE_EPOCH": "1700000000"}) != before
    assert package(project, dest) != package(project, dest, "config")


def test_a_zip_from_another_writer_is_replaced(project: Path, tmp_path: Path) -> None:
    dest = tmp_path / "bootstrap.zip"
    expected = package(project, tmp_path / "reference.zip")
    with zipfile.ZipFile(dest, "w") as archive:  # same entry, but not written by rustlambda
        archive.writestr("bootstrap", ELF)
    assert package(project, dest) == expected
    dest.write_bytes(b"not a zip")
    assert package(project, dest) == expected
