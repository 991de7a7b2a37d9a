"""Packaging: the wheel embeds the shipped protocols (``pedonc_routing/_protocols``) and
``py.typed``, and an installed wheel loads ``pr.load_bundle()`` with no argument from another
working directory and routes an example patient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, PROTOCOLS_DIR, REPO_ROOT

SCRIPT = """
import json, sys
import yaml
import pedonc_routing as pr
bundle = pr.load_bundle()
with open(sys.argv[1], encoding="utf-8") as handle:
    patient = yaml.safe_load(handle)
decision = bundle.route(patient)
print(json.dumps({
    "module": pr.__file__,
    "protocols": list(bundle.protocol_ids),
    "hash": bundle.content_hash,
    "status": decision.status,
    "step": decision.step.id if decision.step else None,
}))
"""


def test_wheel_embeds_protocols_and_installs(tmp_path: Path, shipped_bundle: pr.Bundle) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("pedonc_routing-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "pedonc_routing/_protocols/all.yaml" in names
        assert "pedonc_routing/_protocols/vocabulary.yaml" in names
        assert "pedonc_routing/_protocols/facilities/registry.yaml" in names
        assert "pedonc_routing/py.typed" in names
        packaged = archive.read("pedonc_routing/_protocols/all.yaml")
    assert packaged == (PROTOCOLS_DIR / "all.yaml").read_bytes()

    site = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--no-index",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dependencies = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), dependencies])}
    env.pop("PYTHONHOME", None)
    patient = EXAMPLES_DIR / "01_b_all_standard_risk.yaml"
    run = subprocess.run(
        # -I would drop PYTHONPATH; -s keeps user site-packages out
        [sys.executable, "-s", "-c", SCRIPT, str(patient)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    # the installed copy was imported, not the editable source tree
    assert Path(result["module"]).resolve().is_relative_to(site.resolve())
    assert "all" in result["protocols"]
    # same files, same names: the packaged bundle hashes like the source tree's protocols/
    assert result["hash"] == shipped_bundle.content_hash
    assert (result["status"], result["step"]) == ("routed", "induction_standard_risk")
