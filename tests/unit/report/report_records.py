"""Records shaped like the gate's (tests/gate/*.py) for the report tests, with small PNG artifacts."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from zimage_qa.records import CheckRecord, Family
from zimage_qa.storage import confined
from zimage_qa.verdict import Status

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
GIB = 2**30


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (24, 16)) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="PNG")
    return str(path)


def latency_values(median_s: float, denoise_ms: float) -> dict[str, object]:
    return {
        "median_s": median_s,
        "worst_s": median_s * 1.02,
        "rel_iqr": 0.01,
        "nfe": 9,
        "device": "NVIDIA H100",
        "model": "synthetic",
        "resolution": "1024x1024",
        "steps": 9,
        "seed": 42,
        "stages_ms": {"text_encode": 45.0, "denoise": denoise_ms, "vae_decode": 91.0},
        "vram": {"peak_allocated_gib": 21.69, "peak_reserved_gib": 24.5, "nvml_peak_gib": 25.65},
        "gpu_state": {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "verdict": "throttled",
            "temperature_c": 61,
            "sm_clock_mhz": 1965,
            "max_sm_clock_mhz": 1980,
            "power_w": 650.0,
            "power_limit_w": 700.0,
            "clock_event_reasons": "0x4",
            "clock_event_reason_names": ["sw power cap"],
            "other_processes": 0,
            "process_pids": [],
            "samples": 40,
        },
        "roofline": {
            "flops_per_forward": 55.6e12,
            "nfe": 9,
            "denoise_ms": denoise_ms,
            "achieved_tflops": 358.2,
            "peak_tflops": 777.0,
            "fraction_of_peak": 0.461,
            "floor_ms": 644.0,
        },
    }


def vram_stages() -> dict[str, object]:
    reading = {"allocated_bytes": 0, "reserved_bytes": 0, "nvml_used_bytes": int(0.47 * GIB)}
    return {
        "idle": reading,
        "loaded": {
            "allocated_bytes": int(19.27 * GIB),
            "reserved_bytes": int(19.5 * GIB),
            "nvml_used_bytes": int(20.6 * GIB),
        },
        "peak": {
            "peak_allocated_bytes": int(21.69 * GIB),
            "peak_reserved_bytes": int(24.5 * GIB),
            "peak_nvml_bytes": int(25.65 * GIB),
            "nvml_samples": 120,
        },
        "after": {
            "allocated_bytes": int(19.27 * GIB),
            "reserved_bytes": int(24.5 * GIB),
            "nvml_used_bytes": int(25.6 * GIB),
        },
        "cuda_context_bytes": int(0.61 * GIB),
    }


def gate_records(report_dir: Path, *, hostile: bool = True) -> list[CheckRecord]:
    """One run's worth: a passing and a failing latency case, VRAM, a failed golden case with its images,
    a failed glyph case with its annotated image, a guard, and checks that did not run. With `hostile`,
    ids, messages, OCR readings and values carry HTML that must never reach the page unescaped."""
    evil = f" {XSS_SCRIPT}{XSS_IMG}" if hostile else ""
    golden = confined(report_dir, "golden", "apple-s42")
    glyph = confined(report_dir, "glyph", "fu")
    t = "tests/gate/test_"
    return [
        CheckRecord(
            Family.GUARD,
            f"{t}guards.py::test_scheduler_is_flowmatch_euler",
            "test_scheduler",
            Status.PASSED,
            "scheduler FlowMatchEulerDiscreteScheduler",
            {"scheduler": "FlowMatchEulerDiscreteScheduler"},
        ),
        CheckRecord(
            Family.LATENCY,
            f"{t}latency.py::test_latency[512-simple]",
            "512-simple",
            Status.PASSED,
            "median 0.48 s within budget",
            {**latency_values(0.476, 400.0), "budget": "p50 <= 0.55 s"},
        ),
        CheckRecord(
            Family.LATENCY,
            f"{t}latency.py::test_latency[1024-simple{XSS_SCRIPT if hostile else ''}]",
            f"1024-simple{evil}",
            Status.FAILED,
            f"p50 latency 1.71 s > budget 1.60 s (+6.9 %){evil}",
            latency_values(1.71, 1530.0),
        ),
        CheckRecord(
            Family.LATENCY,
            f"{t}latency.py::test_cold_start",
            "test_cold_start",
            Status.NOT_RUN,
            "no cold-start budget for synthetic on cpu; load 2.00 s, first image 1.00 s",
        ),
        CheckRecord(
            Family.VRAM,
            f"{t}vram.py::test_vram_by_stage_and_no_leak",
            "test_vram_by_stage_and_no_leak",
            Status.PASSED,
            "no growth over 5 generations",
            {"stages": vram_stages(), "readings_bytes": [int(19.27 * GIB)] * 5, "baseline_bytes": 0},
        ),
        CheckRecord(
            Family.VRAM,
            f"{t}vram.py::test_vram_peak[512-simple]",
            "512-simple",
            Status.UNSTABLE,
            "unstable: NVML sampled only once",
        ),
        CheckRecord(
            Family.GOLDEN,
            f"{t}golden.py::test_golden_image[apple-s42]",
            "apple-s42",
            Status.FAILED,
            f"apple-s42 regressed: colour shift: mean Lab ΔE 14.2 > 6{evil}",
            {"phash": 12, "colour shift": 14.2, "structure": 0.61, "action": "regressed"},
            {
                "obtained": png(golden / "obtained.png", (200, 30, 30)),
                "diff": png(golden / "diff.png", (30, 30, 200), (72, 24)),
            },
        ),
        CheckRecord(
            Family.GLYPH,
            f"{t}glyphs.py::test_glyph_text_is_legible[fu]",
            "fu",
            Status.FAILED,
            f"fu: asked for '福', read '副'{evil}",
            {
                "passed": False,
                "status": "wrong_text",
                "expected": "福",
                "read": f"副{evil}",
                "precision": 0.0,
                "recall": 0.0,
                "ned": 1.0,
                "reason": "look-alike",
                "doubts": [],
                "full_read": f"副{evil}",
                "engine_info": {"name": "rapidocr", "version": "1.3.24"},
            },
            {"annotated": png(glyph / "annotated.png", (250, 250, 250))},
        ),
        CheckRecord(
            Family.GLYPH,
            f"{t}glyphs.py::test_glyph_text_is_legible[hanfu]",
            "hanfu",
            Status.NOT_RUN,
            "the synthetic profile cannot render text: its weights are random",
        ),
    ]


FINGERPRINT = {
    "gpus": [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "compute_capability": "9.0",
            "memory_bytes": 85_520_809_984,
            "uuid": "GPU-1234",
        }
    ],
    "driver": "580.65",
    "cuda_driver": "13.0",
    "cuda_runtime": "13.0",
    "torch": "2.13.0",
    "diffusers": "0.42.1",
    "transformers": "5.23.0",
    "modelscope": None,
    "python": "3.11.9",
    "platform": "Linux",
    "cpu": "Xeon",
    "cpu_count": 16,
    "device_class": "NVIDIA H100 80GB HBM3",
}
HEADER = {
    "model": "synthetic",
    "profile": "synthetic",
    "device": "cuda:0 (NVIDIA H100 80GB HBM3)",
    "config": "built-in",
    "session": "session: wall 30.0 s; load 5.0 s + 20 generations 20.0 s = 25.0 s",
}
