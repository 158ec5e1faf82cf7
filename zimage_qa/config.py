"""The gate's configuration: scenarios, golden and glyph cases, run settings, thresholds and budgets.

Read from the built-in `default_config.toml`, overridden by `[tool.zimage-qa]` in a pyproject.toml or
by a file given with `--qa-config`, and validated whole at start-up: every problem is one line naming
the file, the key and the fix.
"""

from __future__ import annotations

import fnmatch
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs import fontset
from zimage_qa.golden.thresholds import Thresholds as GoldenThresholds
from zimage_qa.measure.budget import LatencyBudget, MemoryCeiling
from zimage_qa.measure.memory import MemoryKind
from zimage_qa.measure.units import parse_duration, parse_size
from zimage_qa.storage import safe_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SIZE_STEP = 16
_SIZE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")


@dataclass(frozen=True)
class Case:
    """One generation the gate asks for: a prompt at a size, steps and seed."""

    id: str
    prompt: str
    width: int
    height: int
    steps: int
    seed: int
    nfe: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class Scenario(Case):
    opt_in: bool = False


@dataclass(frozen=True)
class GlyphCase(Case):
    expect: str = ""
    min_score: float | None = None


@dataclass(frozen=True)
class RunSettings:
    warmup: int = 1
    rounds: int = 5
    max_rounds: int = 20  # an undecided latency run is measured up to this many rounds before "not judged"
    time_budget_s: float = 120.0  # a slow deployment (offloaded) gets fewer rounds, never under min_rounds
    min_rounds: int = 3
    drift_images: int = 8
    leak_images: int = 8
    drift_scenario: str = "1024-simple"
    leak_scenario: str = "1024-simple"
    host_probe: bool = True  # probe the host's launch path between rounds and set host-slow rounds aside
    host_wait_s: float = 40.0  # how long a measurement waits out a slow host (spells last up to ~30 s)


@dataclass(frozen=True)
class Thresholds:
    max_rel_iqr: float = 0.10
    drift_max_creep: float = 0.10
    drift_max_jitter_ms: float = 150.0
    drift_max_work_creep: float = 0.10  # offloaded: the creep of each image less its offload transfers
    leak_tolerance_bytes: int = 64 * 2**20
    leak_per_1000_bytes: int = 2**30  # growth per image, judged as what 1,000 images would add
    min_stage_coverage: float = 0.90  # the stage split must account for this share of the median
    golden: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScenarioBudget:
    latency: LatencyBudget | None
    ceilings: tuple[MemoryCeiling, ...]


@dataclass(frozen=True)
class BudgetSet:
    """Budgets for one profile and deployment variant on one device class (exact name, glob, or `cpu`)."""

    profile: str
    device: str
    load_s: float | None
    first_image_s: float | None
    scenarios: Mapping[str, ScenarioBudget]
    variant: str = "eager"
    compile_s: float | None = None  # first call per shape minus a warm call, compiled variants only
    source: str = ""
    probe_ms: float | None = None  # the host probe's normal time where these were recorded (measure.probe)
    own: bool = False  # from this runner's own budgets file: its probe is this runner's normal

    @property
    def recording_host(self) -> bool:
        """The probe is another host's speed, not this runner's normal: a CPU budget from a config (the
        built-in reference budget serves every CPU)."""
        return self.device == "cpu" and not self.own and self.probe_ms is not None

    def matches(self, profile: str, device_name: str, variant: str = "eager") -> bool:
        return (
            self.profile == profile
            and self.variant == variant
            and fnmatch.fnmatchcase(device_name, self.device)
        )

    @property
    def is_pattern(self) -> bool:
        return any(ch in self.device for ch in "*?[")

    def for_scenario(self, scenario_id: str) -> ScenarioBudget | None:
        return self.scenarios.get(scenario_id) or self.scenarios.get("*")


@dataclass(frozen=True)
class QAConfig:
    source: str
    guidance: float
    scheduler: str
    scenarios: tuple[Scenario, ...]
    golden: tuple[Case, ...]
    glyphs: tuple[GlyphCase, ...]
    thresholds: Thresholds
    budgets: tuple[BudgetSet, ...]
    run_by_profile: Mapping[str, RunSettings]
    run_default: RunSettings
    thresholds_by_profile: Mapping[str, Thresholds] = field(default_factory=dict)
    glyph_fonts: tuple[Path, ...] = ()  # the user's own fonts the glyph calibration also renders with

    def run_for(self, profile: str) -> RunSettings:
        return self.run_by_profile.get(profile, self.run_default)

    def thresholds_for(self, profile: str) -> Thresholds:
        return self.thresholds_by_profile.get(profile, self.thresholds)

    def budgets_for(self, profile: str, device_name: str, variant: str = "eager") -> BudgetSet | None:
        """The exact-name match first, then the first pattern that matches."""
        matching = [b for b in self.budgets if b.matches(profile, device_name, variant)]
        exact = [b for b in matching if not b.is_pattern]
        ranked = exact or matching
        return ranked[0] if ranked else None

    def select_scenarios(self, selection: str | None) -> tuple[Scenario, ...]:
        """`None`: every scenario not opt-in; `all`: every one; else a comma list of ids."""
        if not selection:
            return tuple(s for s in self.scenarios if not s.opt_in)
        if selection.strip() == "all":
            return self.scenarios
        wanted = [part.strip() for part in selection.split(",") if part.strip()]
        known = {s.id: s for s in self.scenarios}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise QAUsageError(
                f"--qa-scenarios names unknown scenario(s) {', '.join(unknown)}; "
                f"known: {', '.join(known)} (or 'all')"
            )
        return tuple(known[w] for w in wanted)

    def cases_by_id(self) -> dict[str, Case]:
        """Every configured case (scenario, golden, glyph) by id; ids are unique within each kind."""
        return {c.id: c for c in (*self.glyphs, *self.golden, *self.scenarios)}

    def scenario(self, scenario_id: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.id == scenario_id:
                return scenario
        raise QAUsageError(f"{self.source}: no scenario {scenario_id!r}; add it under [[scenarios]]")


class _Table:
    """A TOML table being read: typed access by key, and a check that no unknown key is left."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        if not isinstance(data, dict):
            raise QAUsageError(f"{source}: {where} must be a table; see the README's configuration section")
        self.data, self.where, self.source, self.seen = data, where, source, set[str]()

    def fail(self, key: str, problem: str, fix: str) -> QAUsageError:
        return QAUsageError(f"{self.source}: {self._at(key)}: {problem}; {fix}")

    def _at(self, key: str) -> str:
        """`table.key`, or the key alone at the top level of a standalone file (where = "")."""
        return f"{self.where}.{key}" if self.where else key

    def get(
        self, key: str, kind: type | tuple[type, ...], default: Any = None, *, required: bool = False
    ) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "is missing", f"add {key} = ... to {self.where or 'the file'}")
            return default
        value = self.data[key]
        bad_bool = isinstance(value, bool) and kind in (int, float, (int, float))
        if bad_bool or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            found, wanted = _a(type(value).__name__), _a(names)
            raise self.fail(key, f"{value!r} is {found}, not {wanted}", f"write {wanted}")
        return value

    def count(self, key: str, default: int, minimum: int = 1) -> int:
        value = self.get(key, int, default)
        if value < minimum:
            raise self.fail(key, f"{value} is below {minimum}", f"use a whole number >= {minimum}")
        return int(value)

    def number(self, key: str, default: float) -> float:
        value = float(self.get(key, (int, float), default))
        if not math.isfinite(value) or value < 0:
            raise self.fail(key, f"{value!r} is negative or not finite", "use a number >= 0")
        return value

    def convert(self, key: str, parse: Any, default: Any = None) -> Any:
        raw = self.get(key, str, None)
        if raw is None:
            return default
        try:
            value = parse(raw)
        except QAUsageError as exc:
            raise QAUsageError(f"{self.source}: {self._at(key)}: {exc}") from None
        if value <= 0:
            raise self.fail(key, f"{raw!r} is not positive", "budgets and ceilings must be above zero")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.fail(
                unknown[0], "is not a known key", f"known keys here: {', '.join(sorted(self.seen)) or 'none'}"
            )


def _size(table: _Table, default: str) -> tuple[int, int]:
    raw = table.get("size", str, default)
    match = _SIZE.match(raw)
    if not match:
        raise table.fail("size", f"{raw!r} is not WIDTHxHEIGHT", "write it like '1024x1024'")
    width, height = int(match.group(1)), int(match.group(2))
    for side in (width, height):
        if side < SIZE_STEP or side % SIZE_STEP or side > 4096:
            near = max(SIZE_STEP, round(side / SIZE_STEP) * SIZE_STEP)
            raise table.fail(
                "size",
                f"{raw!r}: {side} is not a multiple of {SIZE_STEP} between 16 and 4096",
                f"Z-Image needs multiples of {SIZE_STEP}; use {near} instead",
            )
    return width, height


def _case_fields(t: _Table, prompts: Mapping[str, str], defaults: Mapping[str, Any]) -> dict[str, Any]:
    case_id = t.get("id", str, required=True)
    if not case_id.strip():
        raise t.fail("id", "is empty", "give every case a short unique id")
    prompt_ref = t.get("prompt", str, required=True)
    prompt = prompts.get(prompt_ref, prompt_ref)
    if not prompt.strip():
        raise t.fail("prompt", "is empty", "name a key of [prompts] or write the prompt itself")
    width, height = _size(t, "1024x1024")
    steps = t.count("steps", defaults["steps"])
    nfe = t.count("nfe", defaults["nfe"] if steps == defaults["steps"] else steps)
    return {
        "id": case_id,
        "prompt": prompt,
        "width": width,
        "height": height,
        "steps": steps,
        "seed": t.count("seed", defaults["seed"], minimum=0),
        "nfe": nfe,
    }


def _cases(raw: Any, key: str, source: str, read: Any) -> tuple[Any, ...]:
    if not isinstance(raw, list):
        raise QAUsageError(f"{source}: {key} must be an array of tables ([[{key}]]); see the README")
    cases = tuple(read(_Table(item, f"{key}[{i}]", source)) for i, item in enumerate(raw))
    ids = [safe_name(c.id) for c in cases]  # ids name files: two that map to one file name clash too
    duplicates = sorted({c.id for c, i in zip(cases, ids, strict=True) if ids.count(i) > 1})
    if duplicates:
        raise QAUsageError(
            f"{source}: {key}: id {duplicates[0]!r} is used twice (ids name files, so 'a/b' and 'a_b' are "
            "one); give each case its own id"
        )
    return cases


def _per_profile(
    root: _Table, key: str, read: Any, default: Any, keep: tuple[str, ...] = ()
) -> tuple[Any, dict[str, Any]]:
    """A table of defaults whose sub-tables (other than `keep`) override it per profile: [run.reference]."""
    table = _Table(root.get(key, dict, {}), key, root.source)
    per_profile = {k: v for k, v in table.data.items() if isinstance(v, dict) and k not in keep}
    table.seen.update(per_profile)
    base = read(table, default)
    return base, {
        name: read(_Table(sub, f"{key}.{name}", root.source), base) for name, sub in per_profile.items()
    }


def _checked_run(t: _Table, base: RunSettings) -> RunSettings:
    settings = _run_settings(t, base)
    t.done()
    return settings


def _run_settings(t: _Table, base: RunSettings) -> RunSettings:
    rounds = t.count("rounds", base.rounds, minimum=2)
    return RunSettings(
        warmup=t.count("warmup", base.warmup, minimum=0),
        rounds=rounds,
        max_rounds=max(rounds, t.count("max_rounds", base.max_rounds, minimum=2)),
        time_budget_s=t.number("time_budget_s", base.time_budget_s),
        min_rounds=t.count("min_rounds", base.min_rounds, minimum=2),
        drift_images=t.count("drift_images", base.drift_images, minimum=3),
        leak_images=t.count("leak_images", base.leak_images, minimum=2),
        drift_scenario=t.get("drift_scenario", str, base.drift_scenario),
        leak_scenario=t.get("leak_scenario", str, base.leak_scenario),
        host_probe=t.get("host_probe", bool, base.host_probe),
        host_wait_s=t.number("host_wait_s", base.host_wait_s),
    )


def _budget_set(t: _Table) -> BudgetSet:
    profile = t.get("profile", str, required=True)
    device = t.get("device", str, required=True)
    variant = t.get("variant", str, "eager")
    load_s = t.convert("load", parse_duration)
    first_s = t.convert("first_image", parse_duration)
    compile_s = t.convert("compile", parse_duration)
    probe_s = t.convert("probe", parse_duration)
    scenarios: dict[str, ScenarioBudget] = {}
    raw = t.get("scenarios", dict, {})
    for scenario_id, entry in raw.items():
        s = _Table(entry, f"{t.where}.scenarios.{scenario_id}", t.source)
        median, worst = s.convert("median", parse_duration), s.convert("worst", parse_duration)
        latency = LatencyBudget(median_s=median, worst_s=worst) if median or worst else None
        ceilings = tuple(
            MemoryCeiling(limit, kind)
            for kind in MemoryKind
            if (limit := s.convert(kind.value, parse_size)) is not None
        )
        s.done()
        scenarios[scenario_id] = ScenarioBudget(latency, ceilings)
    t.done()
    probe_ms = probe_s * 1000.0 if probe_s is not None else None
    return BudgetSet(profile, device, load_s, first_s, scenarios, variant, compile_s, t.source, probe_ms)


def _thresholds(t: _Table, base: Thresholds) -> Thresholds:
    result = Thresholds(
        max_rel_iqr=t.number("max_rel_iqr", base.max_rel_iqr),
        drift_max_creep=t.number("drift_max_creep", base.drift_max_creep),
        drift_max_jitter_ms=t.number("drift_max_jitter_ms", base.drift_max_jitter_ms),
        drift_max_work_creep=t.number("drift_max_work_creep", base.drift_max_work_creep),
        leak_tolerance_bytes=t.convert("leak_tolerance", parse_size, base.leak_tolerance_bytes),
        leak_per_1000_bytes=t.convert("leak_per_1000_images", parse_size, base.leak_per_1000_bytes),
        min_stage_coverage=t.number("min_stage_coverage", base.min_stage_coverage),
        golden=t.get("golden", dict, base.golden),
    )
    t.done()

    try:
        GoldenThresholds.from_mapping(dict(result.golden))
    except QAUsageError as exc:
        raise QAUsageError(f"{t.source}: thresholds.golden: {exc}") from None
    return result


TOP_LEVEL = (
    "prompts",
    "defaults",
    "run",
    "thresholds",
    "scenarios",
    "golden",
    "glyphs",
    "glyph_calibration",
    "budgets",
)


def _a(noun: str) -> str:
    """`a float`, `an int`, `an int or float`."""
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _glyph_fonts(root: _Table, base: Path) -> tuple[Path, ...]:
    """`[glyph_calibration] fonts`: font files, relative to the folder of the config file."""
    table = _Table(root.get("glyph_calibration", dict, {}), "glyph_calibration", root.source)
    raw = table.get("fonts", list, [])
    table.done()
    if not all(isinstance(p, str) and p.strip() for p in raw):
        raise table.fail("fonts", f"{raw!r} is not a list of file paths", 'write fonts = ["fonts/brand.ttf"]')

    paths = fontset.resolve(raw, base)
    for path in paths:
        try:
            fontset.user_face(path)
        except QAUsageError as exc:
            raise table.fail(
                "fonts", str(exc), "paths are relative to the folder of this config file"
            ) from None
    return paths


def _check_glyph_coverage(config: QAConfig) -> None:
    """Every glyph case's text can be rendered by some calibration font, or the config is refused."""
    fonts = fontset.with_user_fonts(config.glyph_fonts)
    for i, case in enumerate(config.glyphs):
        refusal = fonts.refusal(case.expect)
        if refusal is not None:
            raise QAUsageError(f"{config.source}: glyphs[{i}].expect: {case.expect!r}: {refusal}")


def parse_config(data: Mapping[str, Any], source: str, base: Path | None = None) -> QAConfig:
    """Validate a merged configuration mapping; the first problem found is raised as one line. Paths
    in it are relative to `base` (the folder of the config file; default: the working folder)."""
    # A pyproject.toml's keys live under [tool.zimage-qa]; a standalone file's at its top level.
    root = _Table(dict(data), "[tool.zimage-qa]" if "[tool.zimage-qa]" in source else "", source)
    for key in data:
        if key not in TOP_LEVEL:
            raise root.fail(key, "is not a known section", f"known sections: {', '.join(TOP_LEVEL)}")
    prompts = _Table(root.get("prompts", dict, {}), "prompts", source)
    prompt_map = {k: prompts.get(k, str) for k in list(prompts.data)}
    d = _Table(root.get("defaults", dict, {}), "defaults", source)
    defaults = {"steps": d.count("steps", 8), "seed": d.count("seed", 42, minimum=0)}
    defaults["nfe"] = d.count("nfe", defaults["steps"])
    guidance = d.number("guidance", 0.0)
    scheduler = d.get("scheduler", str, "FlowMatchEulerDiscreteScheduler")
    d.done()

    def scenario(t: _Table) -> Scenario:
        fields = _case_fields(t, prompt_map, defaults)
        opt_in = t.get("opt_in", bool, False)
        t.done()
        return Scenario(**fields, opt_in=opt_in)

    def golden(t: _Table) -> Case:
        fields = _case_fields(t, prompt_map, defaults)
        t.done()
        return Case(**fields)

    def glyph(t: _Table) -> GlyphCase:
        fields = _case_fields(t, prompt_map, defaults)
        expect = t.get("expect", str, required=True)
        if not expect.strip() or len(expect) > 200:
            raise t.fail(
                "expect", f"{expect[:40]!r} is empty or over 200 characters", "write the text to read"
            )
        min_score = t.get("min_score", (int, float), None)
        if min_score is not None and not 0 < min_score <= 1:
            raise t.fail("min_score", f"{min_score} is outside (0, 1]", "use e.g. 0.9 for a long text")
        t.done()
        return GlyphCase(**fields, expect=expect, min_score=min_score)

    run_default, run_by_profile = _per_profile(
        root, "run", lambda t, base: _checked_run(t, base), RunSettings()
    )
    thresholds, thresholds_by_profile = _per_profile(
        root, "thresholds", _thresholds, Thresholds(), keep=("golden",)
    )

    config = QAConfig(
        source=source,
        guidance=guidance,
        scheduler=scheduler,
        scenarios=_cases(root.get("scenarios", list, []), "scenarios", source, scenario),
        golden=_cases(root.get("golden", list, []), "golden", source, golden),
        glyphs=_cases(root.get("glyphs", list, []), "glyphs", source, glyph),
        thresholds=thresholds,
        thresholds_by_profile=thresholds_by_profile,
        budgets=tuple(
            _budget_set(_Table(item, f"budgets[{i}]", source))
            for i, item in enumerate(root.get("budgets", list, []))
        ),
        run_by_profile=run_by_profile,
        run_default=run_default,
        glyph_fonts=_glyph_fonts(root, base or Path.cwd()),
    )
    _check_references(config)
    _check_glyph_coverage(config)
    return config


def _check_references(config: QAConfig) -> None:
    ids = {s.id for s in config.scenarios}
    for settings in (config.run_default, *config.run_by_profile.values()):
        for key in ("drift_scenario", "leak_scenario"):
            value = getattr(settings, key)
            if value not in ids:
                raise QAUsageError(
                    f"{config.source}: run.{key}: {value!r} is not a scenario id; use one of {', '.join(ids)}"
                )
    for budget in config.budgets:
        for scenario_id in budget.scenarios:
            if scenario_id != "*" and scenario_id not in ids:
                raise QAUsageError(
                    f"{config.source}: budgets for {budget.profile}/{budget.device}: scenario "
                    f"{scenario_id!r} does not exist; use one of {', '.join(ids)} or '*'"
                )


def read_budget_file(path: Path) -> tuple[BudgetSet, ...]:
    """A runner's own budgets (written by --qa-update-budgets): `[[budgets]]` tables only."""
    data = read_toml(path)
    unknown = sorted(set(data) - {"budgets"})
    if unknown:
        raise QAUsageError(
            f"{path}: {unknown[0]} is not known in a budgets file; it holds [[budgets]] tables only"
        )
    return tuple(
        _budget_set(_Table(item, f"budgets[{i}]", str(path)))
        for i, item in enumerate(data.get("budgets", []))
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise QAUsageError(f"config file {path} does not exist; check the --qa-config path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QAUsageError(f"config file {path} cannot be read ({exc}); check its permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise QAUsageError(f"config file {path} is not valid TOML ({exc}); fix the syntax there") from None


def builtin_config() -> dict[str, Any]:
    """`default_config.toml` with the budgets of `builtin_budgets.toml` (generated from recorded runs by
    benchmarks/budgets/make_budgets.py)."""
    package = resources.files("zimage_qa")
    config = tomllib.loads(package.joinpath("default_config.toml").read_text(encoding="utf-8"))
    budgets = tomllib.loads(package.joinpath("builtin_budgets.toml").read_text(encoding="utf-8"))
    config["budgets"] = budgets.get("budgets", [])
    return config


def _prune_builtin_budgets(builtin: dict[str, Any], scenarios: Any) -> None:
    """Own scenarios with the built-in budgets: keep the budgets of scenarios that still exist."""
    ids = {s.get("id") for s in scenarios if isinstance(s, dict)} if isinstance(scenarios, list) else set()
    for budget in builtin.get("budgets", []):
        budget["scenarios"] = {k: v for k, v in budget.get("scenarios", {}).items() if k == "*" or k in ids}


def load_config(path: Path | None = None, pyproject: Path | None = None) -> QAConfig:
    """The built-in configuration overridden by `path` (a TOML file or a pyproject.toml), else by
    `[tool.zimage-qa]` of `pyproject` when it has one."""
    merged = builtin_config()
    source = "zimage-qa built-in config"
    user: Mapping[str, Any] | None = None
    base: Path | None = None
    if path is not None:
        data = read_toml(path)
        user = data.get("tool", {}).get("zimage-qa", {}) if path.name == "pyproject.toml" else data
        source = f"{path} [tool.zimage-qa]" if path.name == "pyproject.toml" else str(path)
        base = path.resolve().parent
    elif pyproject is not None and pyproject.is_file():
        section = read_toml(pyproject).get("tool", {}).get("zimage-qa")
        if section is not None:
            user, source, base = section, f"{pyproject} [tool.zimage-qa]", pyproject.resolve().parent
    if user is not None:
        if not isinstance(user, dict):
            raise QAUsageError(f"{source}: [tool.zimage-qa] must be a table; see the README")
        if "scenarios" in user and "budgets" not in user:
            _prune_builtin_budgets(merged, user["scenarios"])
        merged.update(user)
    return parse_config(merged, source, base)
