"""`rustlambda new` and `init` as a user types them: flags, prompts on a terminal only, and one
error naming the flag otherwise."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest

from rustlambda.cli import main
from rustlambda.cli import scaffold as commands


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(commands, "stdin_is_tty", lambda: False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def on_a_terminal(monkeypatch: pytest.MonkeyPatch, answers: str) -> None:
    monkeypatch.setattr(commands, "stdin_is_tty", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO(answers))


def manifest(path: Path) -> dict[str, object]:
    return tomllib.loads((path / "Cargo.toml").read_text())


def dependencies(path: Path) -> dict[str, object]:
    deps = manifest(path)["dependencies"]
    assert isinstance(deps, dict)
    return deps


def test_new_with_an_event_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "new", "orders", "--event-type", "sqs::SqsEvent")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "created orders: Lambda function taking sqs::SqsEvent (lambda_runtime)"
    assert lines[1:5] == ["  Cargo.toml", "  src/main.rs", "  README.md", "  .gitignore"]
    assert "  cd orders" in lines and "  cargo test" in lines
    assert "  rustlambda invoke orders --data-example sqs-event   # in another terminal" in lines
    events = dependencies(tmp_path / "orders")["aws_lambda_events"]
    assert isinstance(events, dict) and events["features"] == ["sqs"]
    assert "SqsBatchResponse" in (tmp_path / "orders" / "src" / "main.rs").read_text()


def test_without_a_template_and_no_terminal_the_error_names_the_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "new", "orders")
    assert code == 2
    assert "no template chosen" in err and "--event-type" in err and "-y" in err
    assert not (tmp_path / "orders").exists() and out == ""


def test_yes_takes_the_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "new", "plain", "-y")[0] == 0
    assert "aws_lambda_events" not in dependencies(tmp_path / "plain")
    assert "struct Request" in (tmp_path / "plain" / "src" / "main.rs").read_text()
    assert run(capsys, "new", "ext", "--extension", "--no-interactive")[0] == 0
    assert "events_processor" in (tmp_path / "ext" / "src" / "main.rs").read_text()
    assert run(capsys, "new", "web", "--http", "-y")[0] == 0
    assert dependencies(tmp_path / "web")["lambda_http"] == "1.3.2"


def test_a_terminal_is_asked_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    on_a_terminal(monkeypatch, "http\napigw_rest\n")
    code, _, err = run(capsys, "new", "web")
    assert code == 0 and "Template" in err and "lambda_http service" in err
    spec = dependencies(tmp_path / "web")["lambda_http"]
    assert spec == {
        "version": "1.3.2",
        "default-features": False,
        "features": ["apigw_rest", "tracing"],
    }

    on_a_terminal(monkeypatch, "function\ns3\n")
    assert run(capsys, "new", "files")[0] == 0
    assert "S3Event" in (tmp_path / "files" / "src" / "main.rs").read_text()

    on_a_terminal(monkeypatch, "extension\nevents, telemetry\n")
    assert run(capsys, "new", "shipper")[0] == 0
    code_text = (tmp_path / "shipper" / "src" / "main.rs").read_text()
    assert "events_processor" in code_text and "telemetry_processor" in code_text
    assert "logs_processor" not in code_text


def test_the_extension_flags_choose_the_extension_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "new", "shipper", "--telemetry")[0] == 0
    assert "telemetry_processor" in (tmp_path / "shipper" / "src" / "main.rs").read_text()
    assert run(capsys, "new", "inside", "--internal")[0] == 0
    assert "register()" in (tmp_path / "inside" / "src" / "main.rs").read_text()


def test_a_terminal_is_not_asked_what_the_flags_say(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    on_a_terminal(monkeypatch, "")  # any prompt would read EOF and abort
    code, _, err = run(capsys, "new", "orders", "--event-type", "kinesis")
    assert code == 0 and err == ""
    code, _, err = run(capsys, "new", "web", "--http-feature", "alb")
    assert code == 0 and err == ""


def test_a_wrong_answer_is_asked_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    on_a_terminal(monkeypatch, "lambda\nstreaming\n")
    code, _, err = run(capsys, "new", "s")
    assert code == 0 and "not one of" in err
    assert "streaming" in (tmp_path / "s" / "src" / "main.rs").read_text()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--http", "--extension"], "--http and --extension choose different templates"),
        (["--event-type", "s3", "--streaming"], "choose different templates"),
        (["--http", "--logs"], "--logs go with --extension"),
        (["--streaming", "--internal"], "--internal go with --extension"),
        (["--extension", "--internal", "--telemetry"], "INVOKE events only"),
        (["--logs", "--telemetry"], "not both"),
        (["--event-type", "nope"], "no template for this event type"),
        (["--http-feature", "vpc"], "not a lambda_http feature"),
        (["-y", "--bin-name", "bad name"], "binary name 'bad name'"),
        (["-y", "--template", "https://example.com/t.zip"], "does not render other templates"),
        (["-y", "--render-var", "a=b"], "does not render other templates"),
        (["-y", "--open"], "never starts an editor"),
        (["-y", "--global", "g.toml"], "cargo-lambda configuration"),
    ],
)
def test_refusals_are_one_error_with_a_fix(
    argv: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "new", "proj", *argv)
    assert code == 2, err
    assert says in err and "fix:" in err
    assert not (tmp_path / "proj").exists()


def test_new_refuses_a_directory_with_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "x").write_text("")
    code, _, err = run(capsys, "new", "proj", "-y")
    assert code == 24 and "not empty" in err and "rustlambda init" in err


def test_new_takes_the_package_name_from_the_path_or_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "new", "apps/orders", "-y")[0] == 0
    assert manifest(tmp_path / "apps" / "orders")["package"] == {
        "name": "orders",
        "version": "0.1.0",
        "edition": "2024",
        "metadata": manifest(tmp_path / "apps" / "orders")["package"]["metadata"],  # type: ignore[index]
    }
    code, _, err = run(capsys, "new", "2fast", "-y")
    assert code == 2 and "starts with a digit" in err and "--name" in err
    assert run(capsys, "new", "2fast", "--name", "fast", "-y")[0] == 0
    assert manifest(tmp_path / "2fast")["package"]["name"] == "fast"  # type: ignore[index]


def test_bin_name_gets_a_bin_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "new", "orders", "-y", "--bin-name", "orders-api")
    assert code == 0 and "rustlambda invoke orders-api " in out
    assert manifest(tmp_path / "orders")["bin"] == [{"name": "orders-api", "path": "src/main.rs"}]


def test_init_fills_this_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "my-ext"
    project.mkdir()
    (project / "README.md").write_text("mine\n")
    monkeypatch.chdir(project)
    code, out, _ = run(capsys, "init", "--extension", "--logs")
    assert code == 0
    assert (
        out.splitlines()[0]
        == "initialized .: external extension processing logs (lambda-extension)"
    )
    assert "  README.md (already there, kept)" in out
    assert "  rustlambda build --extension   # target/lambda/extensions/my-ext" in out
    assert "cd " not in out
    assert (project / "README.md").read_text() == "mine\n"
    assert manifest(project)["package"]["name"] == "my-ext"  # type: ignore[index]
    code, _, err = run(capsys, "init", "-y")
    assert code == 24 and "already holds a Cargo.toml" in err


def test_init_needs_a_name_when_the_directory_has_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "my project").mkdir()
    code, _, err = run(capsys, "init", "my project", "-y")
    assert code == 2 and "--name" in err and "' '" in err
    assert run(capsys, "init", "my project", "-y", "--name", "my-project")[0] == 0
    assert (tmp_path / "my project" / "Cargo.toml").is_file()


def test_help_lists_the_templates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "new", "--help")
    assert code == 0
    for flag in ("--event-type", "--http", "--http-feature", "--streaming", "--extension",
                 "--internal", "--events", "--logs", "--telemetry", "--cdk", "--bin-name",
                 "--no-interactive"):  # fmt: skip
        assert flag in out
    assert "sqs, s3, sns" in " ".join(out.split())
    assert "--template" not in out  # refused, so not offered
