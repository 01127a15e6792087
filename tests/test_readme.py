"""README.md's Python examples run as written (skipped where README.md is not beside tests/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if README.exists() else []


@pytest.mark.skipif(not README.exists(), reason="README.md is not next to tests/")
def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code, capsys, tmp_path, monkeypatch):
    if "fn.save(" in code or "plot_history" in code:
        for extra in ("matplotlib", "onnx"):
            pytest.importorskip(extra)
    if "fastnn.sklearn" in code:
        pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)  # examples write their files into the current directory
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert out.strip(), "each README example prints its result"
