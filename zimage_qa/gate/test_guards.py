"""Guards: the model runs with the settings it is validated with, and a seed means one picture."""

from __future__ import annotations

import pytest

from zimage_qa.checks import guards
from zimage_qa.config import Case, QAConfig
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion

pytestmark = [pytest.mark.gpu, pytest.mark.guard]


def test_scheduler_is_flowmatch_euler(
    qa_model: LoadedModel, qa_config: QAConfig, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(guards.scheduler_verdict(qa_model, qa_config))


def test_guidance_is_zero_and_no_cfg_pass(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(guards.guidance_verdict(qa_model, qa_config, guard_case))


def test_dtype_is_the_configured_one(qa_model: LoadedModel, qa_verdict: Conclusion) -> None:
    qa_verdict.conclude(guards.dtype_verdict(qa_model))


def test_dit_forwards_per_image(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(guards.forwards_verdict(qa_model, qa_config, guard_case))


def test_same_seed_same_image(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(guards.same_seed_verdict(qa_model, qa_config, guard_case))


def test_other_seed_other_image(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(guards.other_seed_verdict(qa_model, qa_config, guard_case))
