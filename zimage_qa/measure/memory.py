"""GPU memory: torch allocator peaks, a background NVML sampler for the device-level peak, the CUDA
context's share, readings by stage, the leak check and the out-of-memory path; and host RAM (the
process's resident set and its peak), which is where an offloaded deployment keeps its weights."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from zimage_qa.decision import ALPHA, Interval, Outcome, decide, trend
from zimage_qa.device import on_cuda
from zimage_qa.errors import QAUsageError
from zimage_qa.measure import _nvml
from zimage_qa.measure.gpu_state import GpuState, merge_states, read_gpu_state
from zimage_qa.measure.units import format_bytes
from zimage_qa.verdict import Verdict


class MemoryKind(Enum):
    """Which of the three memory numbers a ceiling applies to."""

    ALLOCATED = "allocated"  # torch: peak bytes held by tensors
    RESERVED = "reserved"  # torch: peak bytes the caching allocator took from the driver
    NVML = "nvml"  # device level: everything on the card, CUDA context and other processes included
    HOST = "host"  # host RAM: the process's peak resident set (offloaded weights live here)

    @property
    def label(self) -> str:
        return {
            "allocated": "peak allocated",
            "reserved": "peak reserved",
            "nvml": "device-level peak",
            "host": "host RAM peak",
        }[self.value]


@dataclass(frozen=True)
class PeakMemory:
    """Peaks of one measured span (None: not measured here, e.g. no CUDA or no NVML)."""

    allocated_bytes: int | None
    reserved_bytes: int | None
    nvml_bytes: int | None
    nvml_samples: int = 0
    host_bytes: int | None = None  # peak resident set of this process over the span

    def get(self, kind: MemoryKind) -> int | None:
        return {
            MemoryKind.ALLOCATED: self.allocated_bytes,
            MemoryKind.RESERVED: self.reserved_bytes,
            MemoryKind.NVML: self.nvml_bytes,
            MemoryKind.HOST: self.host_bytes,
        }[kind]

    def describe(self) -> str:
        parts = [
            f"{kind.value} {format_bytes(v)}" for kind in MemoryKind if (v := self.get(kind)) is not None
        ]
        return ", ".join(parts) if parts else "not measured"

    def to_dict(self) -> dict[str, int | None]:
        return {
            "peak_allocated_bytes": self.allocated_bytes,
            "peak_reserved_bytes": self.reserved_bytes,
            "peak_nvml_bytes": self.nvml_bytes,
            "nvml_samples": self.nvml_samples,
            "peak_host_rss_bytes": self.host_bytes,
        }


@dataclass(frozen=True)
class MemoryReading:
    """Memory at one moment: torch's current allocated/reserved and NVML's device-level used."""

    allocated_bytes: int | None
    reserved_bytes: int | None
    nvml_used_bytes: int | None

    def to_dict(self) -> dict[str, int | None]:
        return {
            "allocated_bytes": self.allocated_bytes,
            "reserved_bytes": self.reserved_bytes,
            "nvml_used_bytes": self.nvml_used_bytes,
        }


@dataclass(frozen=True)
class MemorySnapshot:
    """Memory by stage, as the published review tabulated it: idle, after load, during, after."""

    idle: MemoryReading
    loaded: MemoryReading
    peak: PeakMemory
    after: MemoryReading
    context_bytes: int | None = None

    def rows(self) -> list[tuple[str, int | None, int | None, int | None]]:
        """(stage, allocated, reserved, nvml) rows for a table."""
        p = self.peak
        return [
            ("idle", self.idle.allocated_bytes, self.idle.reserved_bytes, self.idle.nvml_used_bytes),
            (
                "after load",
                self.loaded.allocated_bytes,
                self.loaded.reserved_bytes,
                self.loaded.nvml_used_bytes,
            ),
            ("during generation (peak)", p.allocated_bytes, p.reserved_bytes, p.nvml_bytes),
            (
                "after generation",
                self.after.allocated_bytes,
                self.after.reserved_bytes,
                self.after.nvml_used_bytes,
            ),
        ]

    def to_dict(self) -> dict[str, object]:
        return {
            "idle": self.idle.to_dict(),
            "loaded": self.loaded.to_dict(),
            "peak": self.peak.to_dict(),
            "after": self.after.to_dict(),
            "cuda_context_bytes": self.context_bytes,
        }


def _cuda_torch(device: object) -> Any | None:
    """torch, when it is imported and `device` is a CUDA device that is available; else None."""
    torch = sys.modules.get("torch")
    if torch is None or not on_cuda(device) or not torch.cuda.is_available():
        return None
    return torch


def nvml_used_bytes(device: object = 0) -> int | None:
    """Device-level used memory from NVML (every process and context on the card), or None."""
    handle = _nvml.handle(_nvml.cuda_index(device))
    info = _nvml.call("nvmlDeviceGetMemoryInfo", handle) if handle is not None else None
    return int(info.used) if info is not None else None


def read_memory(device: object = "cuda:0") -> MemoryReading:
    """Memory now. Never initialises CUDA by itself: torch numbers need torch imported and CUDA in use."""
    torch = _cuda_torch(device)
    allocated = reserved = None
    if torch is not None and torch.cuda.is_initialized():
        allocated = int(torch.cuda.memory_allocated(device))
        reserved = int(torch.cuda.memory_reserved(device))
    return MemoryReading(allocated, reserved, nvml_used_bytes(device))


def cuda_context_bytes(idle_used_bytes: int | None, device: object = "cuda:0") -> int | None:
    """The CUDA context's share of device memory: NVML used once a context exists minus the idle
    reading the caller took before anything touched CUDA. None without CUDA or NVML."""
    if idle_used_bytes is None:
        return None
    torch = _cuda_torch(device)
    if torch is None:
        return None
    torch.zeros(1, device=device)
    torch.cuda.synchronize(device)
    used = nvml_used_bytes(device)
    return None if used is None else max(0, used - idle_used_bytes)


def reset_torch_peaks(device: object = "cuda:0") -> None:
    torch = _cuda_torch(device)
    if torch is not None:
        torch.cuda.reset_peak_memory_stats(device)


def read_torch_peaks(device: object = "cuda:0") -> tuple[int | None, int | None]:
    """(peak allocated, peak reserved) since the last reset, or (None, None) off CUDA."""
    torch = _cuda_torch(device)
    if torch is None:
        return None, None
    return int(torch.cuda.max_memory_allocated(device)), int(torch.cuda.max_memory_reserved(device))


@dataclass(frozen=True)
class NvmlResult:
    """What the sampler saw: the device-level peak, how often it looked, and what looking cost."""

    peak_used_bytes: int | None
    samples: int
    duration_s: float
    max_gap_ms: float  # longest time between two samples: the resolution actually achieved
    busy_s: float  # CPU time the sampler thread spent
    gpu_state: GpuState | None

    @property
    def mean_interval_ms(self) -> float:
        return 1000.0 * self.duration_s / (self.samples - 1) if self.samples > 1 else 0.0

    @property
    def busy_fraction(self) -> float:
        return self.busy_s / self.duration_s if self.duration_s > 0 else 0.0


class NvmlSampler:
    """Background thread reading NVML used memory every `interval_s` (and the GPU state every
    `state_interval_s`, None to skip). Context manager; without NVML it records nothing and
    `result.peak_used_bytes` is None.

        with NvmlSampler(device_index=0) as sampler:
            pipe(...)
        sampler.result.peak_used_bytes
    """

    def __init__(
        self, device_index: int = 0, interval_s: float = 0.005, state_interval_s: float | None = 0.25
    ):
        if not 0 < interval_s <= 1.0:
            raise QAUsageError(f"NVML sampling interval {interval_s} s is outside (0, 1] s; use e.g. 0.005")
        self.device_index = device_index
        self.interval_s = interval_s
        self.state_interval_s = state_interval_s
        self._stop = threading.Event()
        self._go = threading.Event()  # cleared while paused (the host probe runs without the sampler)
        self._go.set()
        self._thread: threading.Thread | None = None
        self._result: NvmlResult | None = None
        self._peak: int | None = None
        self._samples = 0
        self._max_gap = 0.0
        self._busy = 0.0
        self._states: list[GpuState | None] = []
        self._handle: Any | None = None
        self._read: Callable[[], int | None] | None = None
        self._started = 0.0

    @property
    def available(self) -> bool:
        return self._read is not None

    @property
    def result(self) -> NvmlResult:
        if self._result is None:
            raise QAUsageError("NvmlSampler.result is read after the sampler stopped (leave the with block)")
        return self._result

    def start(self) -> NvmlSampler:
        if self._thread is not None:
            raise QAUsageError("NvmlSampler is already running; one sampler per measured span")
        self._handle = _nvml.handle(self.device_index)
        self._read = _nvml.memory_used_reader(self._handle)
        self._stop.clear()
        self._result, self._peak, self._samples, self._max_gap, self._states = None, None, 0, 0.0, []
        self._busy = 0.0
        self._started = time.perf_counter()
        if self._read is not None:
            self._sample()  # one reading before the span starts, so short spans still have two
            self._read_state()
            self._thread = threading.Thread(target=self._run, name="qa-nvml-sampler", daemon=True)
            self._thread.start()
        return self

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No sampling inside the block (the host probe times the launch path without this thread)."""
        self._go.clear()
        try:
            yield
        finally:
            self._go.set()

    def stop(self) -> NvmlResult:
        if self._thread is not None:
            self._stop.set()
            self._go.set()
            self._thread.join()
            self._thread = None
            self._sample()
            self._read_state()
        self._result = NvmlResult(
            peak_used_bytes=self._peak,
            samples=self._samples,
            duration_s=time.perf_counter() - self._started,
            max_gap_ms=self._max_gap * 1000.0,
            busy_s=self._busy,
            gpu_state=merge_states(self._states),
        )
        return self._result

    def __enter__(self) -> NvmlSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sample(self) -> None:
        used = self._read() if self._read is not None else None
        if used is not None:
            self._peak = used if self._peak is None or used > self._peak else self._peak
            self._samples += 1

    def _read_state(self) -> None:
        if self.state_interval_s is not None:
            self._states.append(read_gpu_state(self.device_index, handle=self._handle))

    def _run(self) -> None:
        # The hot loop stays small: one GIL-holding NVML call, a compare, a sleep (which hands the GIL
        # back). GPU state readings, a handful of NVML calls, come every `state_interval_s` only.
        cpu0 = time.thread_time()
        interval, stop, sample = self.interval_s, self._stop, self._sample
        last = time.perf_counter()
        next_state = last + (self.state_interval_s or 0.0)
        max_gap = 0.0
        go = self._go
        while not stop.is_set():
            time.sleep(interval)
            if not go.is_set():
                go.wait()
                last = time.perf_counter()  # a pause is not a gap in the sampling
                continue
            sample()
            now = time.perf_counter()
            max_gap = max(max_gap, now - last)
            last = now
            if self.state_interval_s is not None and now >= next_state:
                self._read_state()
                next_state = time.perf_counter() + self.state_interval_s
        self._max_gap = max_gap
        self._busy = time.thread_time() - cpu0


class MemoryWatch:
    """Peaks of one span: resets torch's peak counters on entry, samples NVML throughout.

    with MemoryWatch("cuda:0") as watch:
        pipe(...)
    watch.peak            # PeakMemory
    watch.nvml            # NvmlResult (samples, resolution, GPU state during the span)
    """

    def __init__(
        self, device: object = "cuda:0", interval_s: float = 0.005, state_interval_s: float | None = 0.25
    ):
        self.device = device
        self._sampler = NvmlSampler(_nvml.cuda_index(device), interval_s, state_interval_s)
        self._peak: PeakMemory | None = None
        self._host_before: int | None = None

    def __enter__(self) -> MemoryWatch:
        torch = _cuda_torch(self.device)
        if torch is not None:
            torch.cuda.synchronize(self.device)
        reset_torch_peaks(self.device)
        self._host_before = reset_host_peak()
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        torch = _cuda_torch(self.device)
        if torch is not None and exc[0] is None:
            torch.cuda.synchronize(self.device)
        result = self._sampler.stop()
        allocated, reserved = read_torch_peaks(self.device)
        host = read_host_memory()
        # without a resettable high-water mark, a peak older than the span may show: keep the larger
        # of the span's start and end readings then, which is what can be proven of the span
        host_peak = host.peak_rss_bytes if host.peak_resettable else _max(host.rss_bytes, self._host_before)
        self._peak = PeakMemory(allocated, reserved, result.peak_used_bytes, result.samples, host_peak)

    def paused(self) -> contextlib.AbstractContextManager[None]:
        """The NVML sampler holds off inside the block."""
        return self._sampler.paused()

    @property
    def peak(self) -> PeakMemory:
        if self._peak is None:
            raise QAUsageError("MemoryWatch.peak is read after the with block ends")
        return self._peak

    @property
    def nvml(self) -> NvmlResult:
        return self._sampler.result


class SessionPeak:
    """The highest memory of a session from the moment the model is loaded and its variant applied:
    the watched spans (`watch`: the measured runs and each size's warm-up, compile work included, NVML
    sampled) and the unwatched work between them (guards, the FLOP count), which torch's allocator peaks
    cover because they run on until the next watch resets them; NVML is not sampled there. Loading itself
    is not counted: the session starts after it. Each number keeps the name of the span that set it.
    Whatever resets torch's peaks must call `before_watch()` first, or the unwatched work before it is lost.

        session = SessionPeak("cuda:0")      # resets torch's peaks: what came before (loading) is not counted
        with session.watch("latency 1024x1024/1024-simple") as watch:
            pipe(...)                        # the span's peaks, and the unwatched work before it, are added
        session.now()                        # PeakMemory over everything so far
    """

    OUTSIDE = "between the measured runs"

    def __init__(self, device: object = "cuda:0") -> None:
        self.device = device
        self._peak: dict[MemoryKind, int] = {}
        self._where: dict[MemoryKind, str] = {}
        torch = _cuda_torch(device)
        if torch is not None:
            torch.cuda.synchronize(device)
        reset_torch_peaks(device)

    @contextlib.contextmanager
    def watch(
        self, where: str, interval_s: float = 0.005, state_interval_s: float | None = 0.25
    ) -> Iterator[MemoryWatch]:
        """A `MemoryWatch` whose peaks count as `where`; the unwatched work before it counts first."""
        self.before_watch()
        watch = MemoryWatch(self.device, interval_s, state_interval_s)
        try:
            with watch:
                yield watch
        finally:  # an out-of-memory span too: its peak is the one that did not fit
            with contextlib.suppress(QAUsageError):  # the watch never started
                self.add(watch.peak, where)

    def add(self, peak: PeakMemory, where: str) -> None:
        for kind in MemoryKind:
            value = peak.get(kind)
            if value is not None and value > self._peak.get(kind, -1):
                self._peak[kind], self._where[kind] = value, where

    def before_watch(self) -> None:
        """Count the allocator's peaks since the last reset (unwatched work) before a watch resets them."""
        allocated, reserved = read_torch_peaks(self.device)
        self.add(PeakMemory(allocated, reserved, None), self.OUTSIDE)

    def now(self) -> PeakMemory:
        self.before_watch()
        get = self._peak.get
        kinds = MemoryKind
        return PeakMemory(get(kinds.ALLOCATED), get(kinds.RESERVED), get(kinds.NVML), 0, get(kinds.HOST))

    def where(self, kind: MemoryKind) -> str | None:
        """What set the session's peak of `kind` (a span's label, or OUTSIDE), None if never measured."""
        return self._where.get(kind)


@dataclass(frozen=True)
class HostMemory:
    """This process's host RAM: resident set now and its peak (high-water mark)."""

    rss_bytes: int | None
    peak_rss_bytes: int | None
    source: str  # "/proc/self/status", "psutil+resource" or "none"
    peak_resettable: bool = False  # the peak covers only the time since reset_host_peak()

    def to_dict(self) -> dict[str, object]:
        return {"rss_bytes": self.rss_bytes, "peak_rss_bytes": self.peak_rss_bytes, "source": self.source}


_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kib(field_name: str, text: str) -> int | None:
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            parts = line.split()
            return int(parts[1]) * 1024 if len(parts) >= 2 and parts[1].isdigit() else None
    return None


def read_host_memory() -> HostMemory:
    """Resident set and its peak: Linux's /proc/self/status (VmRSS, VmHWM), else psutil for the
    resident set and `resource` for the peak since the process started."""
    try:
        with open(_STATUS, encoding="ascii") as handle:
            text = handle.read()
    except OSError:
        text = ""
    rss, hwm = _status_kib("VmRSS", text), _status_kib("VmHWM", text)
    if rss is not None and hwm is not None:
        return HostMemory(rss, hwm, _STATUS, _HOST_PEAK_RESET[0])
    return _host_memory_portable()


def _host_memory_portable() -> HostMemory:
    rss = peak = None
    try:
        import psutil

        rss = int(psutil.Process().memory_info().rss)
    except (ImportError, OSError):
        pass
    try:
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = int(maxrss) * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere
    except (ImportError, OSError):
        pass
    source = "psutil+resource" if rss is not None or peak is not None else "none"
    return HostMemory(rss, _max(peak, rss), source)


_HOST_PEAK_RESET = [False]  # whether the last reset_host_peak() reached the kernel


def reset_host_peak() -> int | None:
    """Reset the process's RSS high-water mark (Linux: write 5 to /proc/self/clear_refs) so that the
    next `read_host_memory().peak_rss_bytes` covers only what follows. Returns the resident set now."""
    try:
        with open(_CLEAR_REFS, "w", encoding="ascii") as handle:
            handle.write("5")
        _HOST_PEAK_RESET[0] = True
    except OSError:
        _HOST_PEAK_RESET[0] = False
    return read_host_memory().rss_bytes


def _max(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def leak_verdict(
    readings: Sequence[int],
    baseline: int,
    tolerance_bytes: int,
    per_1000_bytes: int,
    what: str = "allocated memory",
    alpha: float = ALPHA,
) -> Verdict:
    """Memory after each of N generations: FAILED when the last reading stays above `baseline` (the
    post-warm-up level) by more than `tolerance_bytes`, or when it grows per generation, judged by the one
    decision rule on a Theil-Sen slope as what 1,000 generations would add against `per_1000_bytes`;
    NOT_RUN when the slope is not decided (too few generations, or a slope near the limit); else PASSED.
    Readings whose whole range is under what the limit allows over their span pass without a fit: a steady
    growth at the limit would have spread them further."""
    if not readings:
        raise QAUsageError("a leak check needs the memory reading after each generation; got none")
    if tolerance_bytes < 0 or per_1000_bytes <= 0:
        raise QAUsageError("leak limits must be sizes such as 64MiB (step) and 1GiB (per 1,000 images)")
    n, listing = len(readings), ", ".join(format_bytes(r) for r in readings)
    values = {"readings_bytes": list(readings), "baseline_bytes": baseline}
    excess = readings[-1] - baseline
    if excess > tolerance_bytes:
        return Verdict.failed(
            f"{what} after {n} generations is {format_bytes(readings[-1])}, {format_bytes(excess)} above the "
            f"post-warm-up {format_bytes(baseline)} (tolerance {format_bytes(tolerance_bytes)}) (readings: {listing})",
            **values,
        )
    if n < 2:
        return Verdict.not_run(f"{what}: one generation cannot show growth", **values)
    spread = max(readings) - min(readings)
    # allocator readings repeat: a steady growth at the limit would spread them at least this far
    if spread * 1000 / (n - 1) < per_1000_bytes:
        values["growth_per_1000_bytes"] = spread * 1000 / (n - 1)
        return Verdict.passed(
            f"no growth: the {n} readings stay within {format_bytes(spread)}, under "
            f"{format_bytes(per_1000_bytes)} per 1,000 generations",
            **values,
        )
    fit = trend([float(r) for r in readings], alpha)
    per_image = Interval(
        fit.slope * 1000, fit.low * 1000, fit.high * 1000, fit.confidence, "Theil-Sen slope x 1,000", n, n
    )
    decision = decide(per_image, float(per_1000_bytes), alpha)
    values["growth_per_1000_bytes"] = per_image.estimate
    growth = (
        f"{format_bytes(max(per_image.estimate, 0))} per 1,000 generations "
        f"[{format_bytes(max(per_image.low, 0))}, {format_bytes(max(per_image.high, 0))}] "
        f"from {n} readings (limit {format_bytes(per_1000_bytes)})"
    )
    if decision.outcome is Outcome.REGRESSED:
        return Verdict.failed(f"{what} grows: {growth} (readings: {listing})", **values)
    if decision.outcome is Outcome.INCONCLUSIVE:
        return Verdict.not_run(f"{what}: growth not judged, {growth}: {decision.why_undecided()}", **values)
    return Verdict.passed(f"no growth: {growth}", **values)
