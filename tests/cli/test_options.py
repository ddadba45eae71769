"""The options many commands share: -m/--model MODEL or MODEL, once."""

from __future__ import annotations

from tests.conftest import invoke as run  # noqa: E402


def test_every_command_that_takes_a_model_takes_dash_m(model_path, tmp_path):
    """-m/--model everywhere; info and export keep taking the model as their first argument."""
    assert run("info", "-m", model_path).output == run("info", model_path).output
    assert run("info", "--model", model_path, "--json").exit_code == 0
    for argv in (["export", "-m", model_path, tmp_path / "a.onnx"],
                 ["export", model_path, tmp_path / "b.onnx"]):
        result = run(*argv)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    for argv in (["info"], ["info", "-m", model_path, model_path]):
        result = run(*argv)
        assert result.exit_code == 2
        assert "Give the model file once: as -m/--model MODEL or as MODEL." in result.output
    for command in ("predict", "evaluate", "report", "serve", "graph", "plot weights", "info",
                    "export"):
        help_text = run(*command.split(), "--help").output
        assert "-m, --model" in help_text, command
