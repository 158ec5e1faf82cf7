from __future__ import annotations

import subprocess
import sys

CORE = [
    "budget",
    "fingerprint",
    "gpu_state",
    "memory",
    "oom",
    "probe",
    "roofline",
    "stages",
    "stats",
    "units",
]


def test_core_modules_import_neither_torch_nor_nvml() -> None:
    code = (
        "import sys\n"
        + "".join(f"import zimage_qa.measure.{name}\n" for name in CORE)
        + "print(sorted(m for m in ('torch', 'pynvml', 'numpy', 'pytest') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
