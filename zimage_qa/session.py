"""The gate's session: options, configuration, the one model load, warm-up, and what could not run.

Pytest-free: the plugin builds one `GateSession` per run from the resolved `zimage_qa.options.GateOptions`; a
notebook or the CLI can build one with explicit values. Fault handling lives in `zimage_qa.faults`, picture
validity in `zimage_qa.golden.validity`, this runner's budget file in `zimage_qa.budgets`, the upgrade
candidate in `zimage_qa.candidate`; the gate hands what the session measured to `zimage_qa.checks`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zimage_qa.budgets import BudgetDraft, RunnerBudgets, budget_path
from zimage_qa.candidate import Candidate, candidate_spec
from zimage_qa.config import BudgetSet, Case, QAConfig, RunSettings, Thresholds, load_config
from zimage_qa.device import synchronize
from zimage_qa.errors import InvalidPicture, QAUsageError
from zimage_qa.faults import first_line, is_sticky_device_error
from zimage_qa.fleet.shard import select_shard
from zimage_qa.identity import Deployment, benchmark_fields, machine_fields
from zimage_qa.measure import _nvml
from zimage_qa.measure.baseline import Baseline, load_baseline
from zimage_qa.measure.fingerprint import device_slug, fingerprint
from zimage_qa.measure.memory import MemoryReading, SessionPeak, cuda_context_bytes, read_memory
from zimage_qa.measure.oom import is_oom, oom_failure, release_memory
from zimage_qa.measure.probe import HostCalibration, HostProbe
from zimage_qa.measure.rounds import compile_seconds
from zimage_qa.measure.warnings_log import WarningsLog
from zimage_qa.models.profiles import LoadedModel, ModelSpec, load_model, resolve_spec
from zimage_qa.models.variant import OffloadKind
from zimage_qa.options import GateOptions, Shard
from zimage_qa.picture import PictureJudge
from zimage_qa.preflight import check_device, check_weights
from zimage_qa.runner import ScenarioRunner
from zimage_qa.storage import DeviceLock, check_writable_dir

Loader = Callable[[ModelSpec, str, str], LoadedModel]
WARM_PROBES = 3  # host probes after each warm-up generation: the session's normal before any round


@dataclass
class GateSession:
    """One gate run: loads the model at most once and warms it for the sizes the run will measure."""

    options: GateOptions
    config: QAConfig
    spec: ModelSpec
    loader: Loader = field(default=load_model)
    load_count: int = 0
    first_image_s: float | None = None
    warmed_sizes: set[tuple[int, int]] = field(default_factory=set)
    planned_cases: list[Case] = field(default_factory=list)
    collected_cases: set[str] = field(default_factory=set)  # ids of the cases this process's tests use
    fatal: str | None = None  # a sticky device error: every later GPU check reports it as not run
    memory_idle: MemoryReading | None = None  # before anything touched CUDA
    memory_loaded: MemoryReading | None = None
    memory_peak: SessionPeak | None = None  # from right after the load: every warm-up and run
    context_bytes: int | None = None  # the CUDA context's share of device memory
    warnings: WarningsLog = field(default_factory=WarningsLog)
    calibration: HostCalibration = field(default_factory=HostCalibration)  # the host probe's normal
    keeps_rounds: bool = (
        False  # the run saves its rounds (--benchmark-autosave/-save/-json): a baseline later
    )
    compile_s: float | None = None  # compiled variants: the first call per shape minus a warm call
    warm_times: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)  # first, warm (s)
    mode: str = "solo"  # the orchestrator (zqa gate --gpus) stamps "concurrent" on sibling processes' records
    gate_command: str = "pytest -m gpu"  # how a hint names the gate where this run was started
    lock_wait_line: str | None = None  # the summary's line on a wait for the device lock
    _model: LoadedModel | None = None
    not_collected: dict[str, int] = field(default_factory=dict)  # a reason a check was left out -> how many
    _candidate: Candidate | None = None
    _baseline: Baseline | None = None
    _probe: HostProbe | None = None
    _budgets: RunnerBudgets | None = None

    @classmethod
    def from_options(cls, options: GateOptions, root: Path, loader: Loader | None = None) -> GateSession:
        """The session of `options`, with the configuration they name (else `root`'s pyproject.toml, else the
        built-in one) and its scenario selection, checked whole; `loader` replaces the model load."""
        check_writable_dir(options.report_dir, options.source("report"))
        config = load_config(options.config_path, root / "pyproject.toml")
        config.select_scenarios(options.scenarios)
        spec = resolve_spec(options.model, options.revision)
        return cls(options, config, spec, loader) if loader else cls(options, config, spec)

    def preflight(self) -> None:
        """The device and the weights, once, before the first check (a custom loader decides both itself)."""
        if self.loader is load_model:
            check_device(self.options, self.spec)
            check_weights(self.spec, self.options.source("model"))

    def plan(self, cases: Iterable[Any]) -> None:
        """The warm-ups this run needs: one per size among the cases its checks use."""
        self.planned_cases = new_plan(cases)

    def shard(self, nodeids: list[str], shard: Shard) -> set[str]:
        """The gate items (node ids) this process runs of `shard`."""
        spec = self.spec
        return select_shard(
            nodeids,
            shard,
            self.config,
            profile=spec.profile,
            looks=spec.judged_for_looks,
            renders_text=spec.renders_text,
        )

    def device_lock(self, holder: str) -> DeviceLock:
        """The lock that keeps other gate runs off this device while this one measures it."""
        return DeviceLock(self.device_key(), holder)

    def runner(self, judge: PictureJudge | None = None) -> ScenarioRunner:
        """A runner of the session model (loaded and warmed first): its memory peaks add to the session's,
        its host probe and calibration are the session's; `judge` says which pictures are invalid."""
        model = self.model()
        return ScenarioRunner(
            model, self.config.guidance, self.memory_peak, self.calibration, self.host_probe(), judge
        )

    def machine_info(self) -> dict[str, Any]:
        """The environment fingerprint every saved gate run and report carries."""
        return fingerprint().to_dict()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> LoadedModel:
        """The session's model, loaded on first use and never again; the session's memory peak starts once it
        is loaded and served as deployed, before any warm-up."""
        if self._model is None:
            self.load_count += 1
            device = self.options.device.resolved(self.spec.profile)
            self.memory_idle = read_memory(device)
            if self.memory_idle.nvml_used_bytes is not None and self.spec.profile != "reference":
                import torch  # noqa: F401  # cuda_context_bytes reads torch only once it is imported

                self.context_bytes = cuda_context_bytes(self.memory_idle.nvml_used_bytes, device)
            model = self._served(self.spec)
            self._model = model
            self.memory_loaded = read_memory(model.device)
            self.memory_peak = SessionPeak(model.device)
        return self._model

    def settings(self) -> RunSettings:
        """The configuration's `[run]` settings for this profile."""
        return self.config.run_for(self.spec.profile)

    def thresholds(self) -> Thresholds:
        return self.config.thresholds_for(self.spec.profile)

    def _served(self, spec: ModelSpec) -> LoadedModel:
        """`spec` loaded and served as deployed (--qa-variant)."""
        model = self._load(spec)
        if not self.options.variant.is_default and getattr(model, "variant", None) is None:
            model.variant = self.options.variant.apply(model.pipe, model.device)
        return model

    def _load(self, spec: ModelSpec) -> LoadedModel:
        """The loader's model; an offloaded deployment's weights are loaded into host memory, not onto the
        device first (else a 16 GB card could not even load what it serves offloaded)."""
        if (
            self.loader is load_model
        ):  # the built-in loader takes the parsed device, a hook's loader its string
            return load_model(spec, self.options.device, self.options.dtype, on_host=self._loads_on_host())
        return self.loader(spec, str(self.options.device), self.options.dtype)

    def _loads_on_host(self) -> bool:
        """Whether the weights stay on the host at load: only for a variant that offloads and does not
        quantize. Quantization runs on the loaded weights before the offload hooks are set, and it needs
        them on the device: torchao's int4wo default layout is CUDA-only, bitsandbytes quantizes on CUDA.
        A quantized and offloaded deployment therefore loads onto the device first, as a resident one."""
        variant = self.options.variant
        return variant.offload is not OffloadKind.NONE and variant.quantize is None

    def gpu_reason(self) -> str | None:
        """Why GPU-only checks cannot run here, or None when they can."""
        model = self.model()
        if not model.on_cuda:
            why = (
                "the reference profile runs on the CPU"
                if self.spec.profile == "reference"
                else "none visible"
            )
            return f"no CUDA device ({why})"
        return None

    def require_gpu_problem(self) -> str | None:
        """With --qa-require-gpu: what makes this run unfit for a GPU gate, else None."""
        if not self.options.require_gpu:
            return None
        if self.spec.profile == "reference":
            return "--qa-require-gpu: the reference profile is not a GPU gate; pass --qa-model synthetic or real weights"
        reason = self.gpu_reason()
        return f"--qa-require-gpu: {reason}" if reason else None

    def warm(self, cases: Iterable[Case] | None = None, *, skip_oom: bool = False) -> None:
        """Untimed generations, one per size not yet warmed; the very first one is the first-image time.
        With `skip_oom`, a size that runs out of memory is released and left cold: its own check meets
        the error and fails with the numbers, while the rest of the session runs."""
        model = self.model()
        for case in cases if cases is not None else self.planned_cases:
            size = (case.width, case.height)
            if size in self.warmed_sizes:
                continue
            try:
                with self._watched(f"warm-up {case.size}"):
                    self._warm_size(model, case)
            except Exception as exc:
                if not (skip_oom and is_oom(exc)):
                    raise
                release_memory(exc, model.device)
                continue
            self.warmed_sizes.add(size)

    @contextlib.contextmanager
    def _watched(self, where: str) -> Iterator[None]:
        """Work outside the measured runs that the session's peak (--qa-card-memory) samples on NVML as well:
        the first image at a size is where an offloaded deployment may hold two models, or compile."""
        if self.memory_peak is None:
            yield
            return
        with self.memory_peak.watch(where, state_interval_s=None):
            yield

    def _warm_size(self, model: LoadedModel, case: Case) -> None:
        """The first generation at a size compiles (compiled variants) or initialises lazily; a second,
        warm one at the same size says how much of the first was that (the compile time), and both
        plan the size's rounds."""
        times: list[float] = []
        compiled = getattr(getattr(model, "variant", None), "compiled", False)
        warmup = max(1, self.config.run_for(self.spec.profile).warmup)
        probe = self.host_probe()
        for _ in range(max(2, warmup) if compiled else warmup):
            started = time.perf_counter()
            model.generate(case.prompt, case.width, case.height, case.steps, case.seed, self.config.guidance)
            synchronize(model.device)
            times.append(time.perf_counter() - started)
            for _ in range(WARM_PROBES if probe is not None else 0):  # the session's normal host speed
                self.calibration.add(probe.read_ms())  # type: ignore[union-attr]
        self.warm_times[(case.width, case.height)] = (times[0], min(times[1:] or times))
        if self.first_image_s is None:
            self.first_image_s = times[0]
            self.compile_s = compile_seconds(times[0], min(times[1:])) if compiled and times[1:] else None

    def host_probe(self) -> HostProbe | None:
        """The probe of the host's launch path (None when `[run] host_probe` is off), made once, with the normal
        probe of this runner's budgets (where they store one) for every check, whichever ran first."""
        if self._probe is None and self.config.run_for(self.spec.profile).host_probe:
            self._probe = HostProbe(self.model().device)
            with contextlib.suppress(QAUsageError):  # a broken budget file: the checks that read it say so
                self.budgets()
        return self._probe

    def expected_device(self) -> str:
        """Where the model will run, said before loading and without importing torch (NVML names GPUs)."""
        if self.options.device.resolved(self.spec.profile) == "cpu":
            return "cpu"
        gpus = fingerprint(use_torch=False).gpus
        if not gpus:
            return "cpu (no CUDA device visible)"
        index = self.options.device.index
        return next((f"cuda:{index} {g.name}" for g in gpus if g.index == index), f"cuda:{index}")

    def device_name(self) -> str:
        model = self.model()
        if not model.on_cuda:
            return "cpu"
        import torch

        return str(torch.cuda.get_device_name(torch.device(model.device)))

    def device_key(self) -> str:
        """What the per-device lock is keyed by: `cpu`, or the GPU's UUID (whatever its CUDA index)."""
        if self.options.device.resolved(self.spec.profile) == "cpu":
            return "cpu"
        index = self.options.device.index
        handle = _nvml.handle(index)
        uuid = _nvml.call("nvmlDeviceGetUUID", handle) if handle is not None else None
        return _nvml.text(uuid) if uuid else f"cuda{_nvml._visible_entry(index) or index}"

    def absorb(self, exc: BaseException, where: str) -> str | None:
        """The failure sentence for a fault the gate survives (out of memory, a sticky device error,
        an invalid picture), or None for any other exception. A sticky error sets `fatal`."""
        if isinstance(exc, InvalidPicture):
            return str(exc)
        device = self._model.device if self._model is not None else "cuda:0"
        if is_oom(exc):
            return oom_failure(exc, where, device)
        if is_sticky_device_error(exc):
            first = first_line(exc)
            self.fatal = (
                f"a sticky CUDA error in {where} ({first}) left the CUDA context unusable; "
                "restart the process, and check the driver and the card (nvidia-smi, dmesg) before trusting "
                "this GPU"
            )
            return f"sticky CUDA error: {first}; every remaining GPU check of this run is not run"
        return None

    @property
    def variant(self) -> str:
        """The deployment variant's label ("eager" when served as loaded)."""
        return self.options.variant.label

    def device_class(self) -> str:
        """The folder this device's goldens and budgets are filed under (`cpu`, or the GPU name's slug)."""
        name = self.device_name()
        return device_slug(None if name == "cpu" else name)

    def runner_budgets(self) -> RunnerBudgets:
        """This runner's budget file, with the draft --qa-update-budgets fills."""
        if self._budgets is None:
            path = budget_path(self.options.golden_dir, self.spec.profile, self.variant, self.device_class())
            draft = (
                BudgetDraft(self.spec.profile, self.variant, self.device_name())
                if self.options.update_budgets
                else None
            )
            self._budgets = RunnerBudgets(path, draft)
        return self._budgets

    def budgets(self) -> BudgetSet | None:
        """This runner's own budgets (budgets.toml beside its golden set) first, then the config's."""
        found = self.runner_budgets().lookup(self.config, self.spec.profile, self.device_name(), self.variant)
        if found is not None and found.probe_ms is not None and not found.recording_host:
            self.calibration.stored_ms = found.probe_ms
            self.calibration.stored_source = f"the budgets of {found.source or 'this runner'}"
        return found

    def write_budgets(self) -> str | None:
        """At the end of an --qa-update-budgets run: merge what was measured into the runner's file."""
        if self._budgets is None:
            return None
        return self._budgets.write(self.calibration.session_ms, f"{self.spec.label} on {self.device_name()}")

    def candidate(self) -> Candidate:
        """--qa-candidate: the second pipeline, loaded once beside the model on the same device and served
        the same way (variant)."""
        if self._candidate is None:
            if not self.options.candidate:
                raise QAUsageError("no --qa-candidate given")
            self._candidate = Candidate(
                candidate_spec(self.options.candidate), self._served, self.model, self.config.guidance
            )
        return self._candidate

    def resident_bytes(self) -> int | None:
        """What the model holds on the device after loading (weights and buffers)."""
        if self.memory_loaded is None or self.memory_loaded.allocated_bytes is None:
            return None
        return self.memory_loaded.allocated_bytes

    def record_identity(self) -> dict[str, str]:
        """What every record carries besides the label: the variant, the weights that loaded, the mode."""
        identity = {"profile": self.spec.profile, "variant": self.variant, "mode": self.mode}
        weights = getattr(self._model, "identity", None) if self._model is not None else None
        if weights is not None:
            identity["weights"] = weights.text
            identity["weights_kind"] = weights.kind.value
        return identity

    def baseline(self) -> Baseline | None:
        """The --qa-baseline records of this deployment on this runner, read once (None without the option)."""
        if self.options.baseline is None:
            return None
        if self._baseline is None:
            self._baseline = load_baseline(self.options.baseline, self.deployment_identity())
        return self._baseline

    def deployment_identity(self) -> Deployment:
        """This run as `zimage_qa.identity.Deployment`: the machine's fingerprint and the record identity."""
        record = {"model": self.spec.label, "device": self.device_name(), **self.record_identity()}
        return Deployment(machine_fields({"zimage_qa": fingerprint().to_dict()}), benchmark_fields(record))

    def not_applicable(self, family: Any, test_name: str) -> str | None:
        """Why a family's check does not apply to this profile at all (never collected, named in the summary):
        the synthetic profile's random weights make pictures that no golden or glyph check can judge."""
        if self.spec.judged_for_looks or family is None:
            return None
        value = getattr(family, "value", "")
        if value in ("golden", "glyph") or (value == "upgrade" and "pictures" in test_name):
            reason = f"{value}: does not apply to the {self.spec.profile} profile (random weights: pictures are noise)"
            self.not_collected[reason] = self.not_collected.get(reason, 0) + 1
            return reason
        return None

    def note_not_collected(self, reason: str) -> None:
        """A check this run does not promise (named in the summary with how many were left out)."""
        self.not_collected[reason] = self.not_collected.get(reason, 0) + 1

    def not_run_reason(self) -> str | None:
        """Why a GPU check must not start (a sticky device error earlier in the run), or None."""
        return f"not run: {self.fatal}" if self.fatal else None


def new_plan(cases: Iterable[Any]) -> list[Case]:
    """The distinct cases a run will generate, first of each size kept (warm-up needs one per size)."""
    seen: dict[tuple[int, int], Case] = {}
    for case in cases:
        if isinstance(case, Case):
            seen.setdefault((case.width, case.height), case)
    return list(seen.values())
