"""PP-OCR inference on onnxruntime's CPU provider: the DB text detector, the CTC line recogniser and
the crops between them, for the ONNX models that rapidocr ships.

The steps are those of rapidocr 3.x (`ch_ppocr_det`, `utils.process_img.get_rotate_crop_image`,
`ch_ppocr_rec`), written out here so that a one-shot `zqa glyph-check` does not pay for rapidocr's
start-up: its package parses two YAML files through OmegaConf on import (0.4-0.8 s on 2 cores).
Two choices differ from rapidocr's default pipeline:
- the detector sees the picture shrunk to at most `side` pixels on its longer side, never enlarged
  (rapidocr enlarges to 736 px on the shorter side): `zimage_qa.glyphs.rapid` detects a 1024x1024 picture
  at 512x512, about 0.15 s of CPU instead of 0.7-1.1 s at full size, with the same held-out figures
  on 1024x1024 pictures with text 28-150 px high; lines are still cut from the full-size picture;
- no angle classifier: text that stands upside down is not what a prompt asked for.
Given the same detector input, boxes, texts and scores equal rapidocr's (tests/unit/glyphs/test_ppocr.py).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from zimage_qa.errors import QACheckError, QAUsageError
from zimage_qa.glyphs.cache import file_digest
from zimage_qa.glyphs.lines import Alternatives, EngineInfo, Recognition, TextLine, char_scores, to_box

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime
    from PIL import Image

CPU = "CPUExecutionProvider"

# DB post-processing, as rapidocr 3.10 configures it for PP-OCRv6
THRESH = 0.3  # pixel probability that counts as text
BOX_THRESH = 0.5  # mean probability inside a box to keep it
UNCLIP_RATIO = 1.6  # how far a shrunk text kernel is grown back
MAX_CANDIDATES = 1000
MIN_SIZE = 3
REC_HEIGHT = 48  # PP-OCR recognisers read lines 48 px high
REC_MIN_RATIO = 320 / 48  # rapidocr pads each batch at least to 320 px wide; `tight` lifts that
TOP_K = 5  # runners-up kept per character read (`Alternatives`)


def session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    """An onnxruntime session on the CPU only: `threads` intra-op threads, full graph optimisation."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # one picture a call: the arena only holds memory
    # Idle threads sleep instead of spinning: on a busy 2-core runner (and beside the pipeline the
    # gate measures) spinning threads burn the CPU the other thread needs; 768x768 detection under
    # load: 0.44 s instead of 0.53 s.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    made = ort.InferenceSession(str(path), sess_options=options, providers=[CPU])
    if made.get_providers() != [CPU]:
        raise QACheckError(
            f"onnxruntime session for {path.name} runs on {made.get_providers()}, expected {CPU}"
        )
    return made


@dataclass(frozen=True)
class Detection:
    """A text region: four corners (clockwise from top-left) in picture pixels, and the mean score."""

    box: np.ndarray
    score: float


class Detector:
    """DB text detection on the picture shrunk to at most `side` pixels on its longer side."""

    def __init__(self, model: onnxruntime.InferenceSession, side: int) -> None:
        self.model = model
        self.side = side
        self._input = model.get_inputs()[0].name

    def __call__(self, bgr: np.ndarray) -> list[Detection]:
        import numpy as np

        height, width = bgr.shape[:2]
        tensor = self._prepare(bgr)
        probability = self.model.run(None, {self._input: tensor})[0][0, 0]
        found = _boxes(probability, width, height)
        found = [d for d in found if _long_enough(d.box)]
        order = _reading_order(np.array([d.box for d in found])) if found else []
        return [found[i] for i in order]

    def _prepare(self, bgr: np.ndarray) -> np.ndarray:
        import cv2
        import numpy as np

        size = input_size(bgr.shape[1], bgr.shape[0], self.side)
        resized = cv2.resize(bgr, size) if size != (bgr.shape[1], bgr.shape[0]) else bgr
        scaled = resized.astype(np.float32) * (2.0 / 255.0) - 1.0  # (x / 255 - 0.5) / 0.5
        return np.ascontiguousarray(scaled.transpose(2, 0, 1)[np.newaxis])


def input_size(width: int, height: int, side: int) -> tuple[int, int]:
    """(width, height) the detector sees: the picture shrunk until its longer side is at most `side`,
    never enlarged, each side rounded to a multiple of 32."""
    ratio = min(1.0, side / max(width, height))
    return max(32, round(int(width * ratio) / 32) * 32), max(32, round(int(height * ratio) / 32) * 32)


def _boxes(probability: np.ndarray, width: int, height: int) -> list[Detection]:
    """Boxes around the connected text regions of the probability map, in picture pixels."""
    import cv2
    import numpy as np

    mask = cv2.dilate((probability > THRESH).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    rows, cols = probability.shape
    found = []
    for contour in contours[:MAX_CANDIDATES]:
        points, short = _mini_box(contour)
        if short < MIN_SIZE:
            continue
        score = _box_score(probability, points)
        if score < BOX_THRESH:
            continue
        grown, short = _mini_box(_unclip(points))
        if short < MIN_SIZE + 2:
            continue
        grown[:, 0] = np.clip(np.round(grown[:, 0] / cols * width), 0, width)
        grown[:, 1] = np.clip(np.round(grown[:, 1] / rows * height), 0, height)
        box = _clockwise(grown.astype(np.int32).astype(np.float32))
        box[:, 0] = np.clip(box[:, 0], 0, width - 1).astype(np.int32)
        box[:, 1] = np.clip(box[:, 1], 0, height - 1).astype(np.int32)
        found.append(Detection(box, float(score)))
    return found


def _mini_box(contour: np.ndarray) -> tuple[np.ndarray, float]:
    """The minimum-area rectangle around `contour`: corners from top-left, and its shorter side."""
    import cv2
    import numpy as np

    rect = cv2.minAreaRect(contour)
    points = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    first, fourth = (0, 1) if points[1][1] > points[0][1] else (1, 0)
    second, third = (2, 3) if points[3][1] > points[2][1] else (3, 2)
    box = np.array([points[first], points[second], points[third], points[fourth]], dtype=np.float32)
    return box, float(min(rect[1]))


def _box_score(probability: np.ndarray, box: np.ndarray) -> float:
    """Mean text probability inside `box` (rapidocr's "fast" score)."""
    import cv2
    import numpy as np

    rows, cols = probability.shape
    x0 = int(np.clip(np.floor(box[:, 0].min()), 0, cols - 1))
    x1 = int(np.clip(np.ceil(box[:, 0].max()), 0, cols - 1))
    y0 = int(np.clip(np.floor(box[:, 1].min()), 0, rows - 1))
    y1 = int(np.clip(np.ceil(box[:, 1].max()), 0, rows - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    shifted = box - np.array([x0, y0], dtype=np.float32)
    cv2.fillPoly(mask, [shifted.astype(np.int32)], 1)
    return float(cv2.mean(probability[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def _unclip(box: np.ndarray) -> np.ndarray:
    """Grow the shrunk text kernel back by area * ratio / perimeter (DB's unclip)."""
    import numpy as np
    import pyclipper

    x, y = box[:, 0].astype(np.float64), box[:, 1].astype(np.float64)
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    length = float(np.sum(np.hypot(np.roll(x, -1) - x, np.roll(y, -1) - y)))
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(area * UNCLIP_RATIO / length if length else 0.0)
    return np.array(grown, dtype=np.float32).reshape((-1, 1, 2))


def _clockwise(points: np.ndarray) -> np.ndarray:
    import numpy as np

    by_x = points[np.argsort(points[:, 0]), :]
    left, right = by_x[:2], by_x[2:]
    top_left, bottom_left = left[np.argsort(left[:, 1])]
    top_right, bottom_right = right[np.argsort(right[:, 1])]
    return np.array([top_left, top_right, bottom_right, bottom_left], dtype=np.float32)


def _long_enough(box: np.ndarray) -> bool:
    import numpy as np

    return int(np.linalg.norm(box[0] - box[1])) > 3 and int(np.linalg.norm(box[0] - box[3])) > 3


def _reading_order(boxes: np.ndarray, same_line: float = 10.0) -> list[int]:
    """Top to bottom, then left to right within a line (rapidocr's `sorted_boxes`)."""
    import numpy as np

    tops = boxes[:, 0, 1]
    by_y = np.argsort(tops, kind="stable")
    line = np.concatenate([[0], np.cumsum(np.diff(tops[by_y]) >= same_line)])
    within = np.lexsort((boxes[by_y, 0, 0], line))
    return [int(i) for i in by_y[within]]


def crop(bgr: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The region inside `box`, straightened; a tall crop (a vertical line) is turned on its side."""
    import cv2
    import numpy as np

    width = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3])))
    height = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), target)
    cut = cv2.warpPerspective(
        bgr, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    return np.rot90(cut) if cut.shape[0] >= 1.5 * cut.shape[1] else cut


class Recogniser:
    """CTC line recognition; the character list is read from the model's metadata."""

    def __init__(self, model: onnxruntime.InferenceSession, batch: int = 6) -> None:
        self.model = model
        self.batch = batch
        self._input = model.get_inputs()[0].name
        meta = model.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise QACheckError("the recognition model carries no character list in its metadata")
        self.characters = ["", *meta["character"].splitlines(), " "]  # CTC blank first, space last

    def __call__(self, crops: Sequence[np.ndarray], *, tight: bool = False) -> tuple[Recognition, ...]:
        """Read each line crop (BGR). `tight`: batch 16 short lines without padding them to 320 px
        (calibration renders; rapidocr pads a batch to at least 320 px, as PaddleOCR does)."""
        import numpy as np

        ratios = [crop.shape[1] / crop.shape[0] for crop in crops]
        order = np.argsort(np.array(ratios), kind="stable")
        size = 16 if tight else self.batch
        found: list[Recognition | None] = [None] * len(crops)
        for start in range(0, len(crops), size):
            chosen = [int(i) for i in order[start : start + size]]
            widest = max([1.0 if tight else REC_MIN_RATIO, *(ratios[i] for i in chosen)])
            tensor = np.stack([_normalised(crops[i], widest) for i in chosen])
            probabilities = self.model.run(None, {self._input: tensor})[0]
            for index, row in zip(chosen, probabilities, strict=True):
                found[index] = self._decode(row)
        return tuple(r for r in found if r is not None)

    def _decode(self, row: np.ndarray) -> Recognition:
        import numpy as np

        best, confidence = row.argmax(axis=1), row.max(axis=1)
        keep = np.ones(len(best), dtype=bool)
        keep[1:] = best[1:] != best[:-1]
        keep &= best != 0
        text = "".join(self.characters[i] for i in best[keep])
        scores = [round(float(c), 5) for c in confidence[keep]]
        mean = float(np.mean(scores)) if scores else 0.0
        chars = char_scores(text, scores)
        alternatives = self._alternatives(row, best, np.flatnonzero(keep))
        visible = tuple(a for a, ch in zip(alternatives, text, strict=True) if not ch.isspace())
        return Recognition(text, round(mean, 5), chars, visible if len(visible) == len(chars) else ())

    def _alternatives(self, row: np.ndarray, best: np.ndarray, starts: np.ndarray) -> list[Alternatives]:
        """Per character read: the `TOP_K` characters with the most probability over its run of frames."""
        import numpy as np

        found = []
        for start in starts:
            end = int(start) + 1
            while end < len(best) and best[end] == best[start]:
                end += 1
            peak = row[start:end].max(axis=0)
            peak[0] = 0.0  # the CTC blank is no character
            top = np.argpartition(peak, -TOP_K)[-TOP_K:]
            top = top[np.argsort(-peak[top])]
            found.append(tuple((self.characters[i], round(float(peak[i]), 5)) for i in top if peak[i] > 0))
        return found


def _normalised(crop: np.ndarray, widest: float) -> np.ndarray:
    """The crop resized to 48 px high, scaled to [-1, 1], right-padded with zeros to the batch width."""
    import cv2
    import numpy as np

    width = int(REC_HEIGHT * widest)
    resized_w = min(width, math.ceil(REC_HEIGHT * crop.shape[1] / crop.shape[0]))
    resized = cv2.resize(crop, (resized_w, REC_HEIGHT)).astype(np.float32).transpose(2, 0, 1)
    padded = np.zeros((3, REC_HEIGHT, width), dtype=np.float32)
    padded[:, :, :resized_w] = resized * (2.0 / 255.0) - 1.0
    return padded


def to_bgr(image: Any) -> np.ndarray:
    """A PIL image as a contiguous BGR uint8 array."""
    import numpy as np

    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def check_engine_options(threads: object, min_score: object, det_side: object) -> int:
    """The thread count to use, or QAUsageError for options no engine could use."""
    threads = default_threads() if threads is None else threads
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise QAUsageError(f"OCR threads must be a positive integer, got {threads!r}")
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0.0 <= min_score < 1.0:
        raise QAUsageError(f"OCR min_score must be in [0, 1), got {min_score!r}")
    if isinstance(det_side, bool) or not isinstance(det_side, int) or not 64 <= det_side <= 4096:
        raise QAUsageError(f"OCR det_side must be an integer from 64 to 4096 pixels, got {det_side!r}")
    return min(threads, os.cpu_count() or threads)


class PpOcrEngine:
    """A PP-OCR detector and recogniser pair from a wheel's model folder, on the CPU. Loads its models
    when built. Each engine names its models, where they live and its version (`zimage_qa.glyphs.rapid`,
    `zimage_qa.glyphs.ppocr4`).

    `threads`: onnxruntime intra-op threads (default `default_threads()`).
    `min_score`: recognition confidence below which a line is dropped (rapidocr's `text_score`).
    `det_side`: the detector sees the picture shrunk to at most this many pixels on its longer side.
    """

    name: ClassVar[str]
    models: ClassVar[tuple[str, str]]  # detection, recognition
    det_side: ClassVar[int]

    def __init__(
        self, *, threads: int | None = None, min_score: float = 0.5, det_side: int | None = None
    ) -> None:
        side = type(self).det_side if det_side is None else det_side
        threads = check_engine_options(threads, min_score, side)
        folder = self.model_dir()
        missing = [name for name in self.models if not (folder / name).is_file()]
        if missing:
            raise QAUsageError(self.missing(missing, folder))
        self._det = Detector(session(folder / self.models[0], threads), side)
        self._rec = Recogniser(session(folder / self.models[1], threads))
        self._lock = threading.Lock()
        self.threads = threads
        self.min_score = float(min_score)
        hashes = {name: file_digest(folder / name) for name in self.models}
        self._info = EngineInfo(name=self.name, version=self.version(), model_hashes=hashes)

    @classmethod
    def model_dir(cls) -> Path:
        raise NotImplementedError

    @classmethod
    def version(cls) -> str:
        raise NotImplementedError

    @classmethod
    def missing(cls, files: list[str], folder: Path) -> str:
        raise NotImplementedError

    @property
    def info(self) -> EngineInfo:
        return self._info

    @property
    def sessions(self) -> tuple[object, ...]:
        """The onnxruntime sessions (detection, recognition), for checks of where they run."""
        return self._det.model, self._rec.model

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        """Detect the text lines in `image`, cut each from the full-size picture and recognise it."""
        bgr = to_bgr(image)
        with self._lock:
            found = self._det(bgr)
            readings = self._rec([crop(bgr, d.box) for d in found])
        return tuple(
            TextLine(r.text, to_box(d.box.tolist()), r.score, self.name, r.chars, r.alternatives)
            for d, r in zip(found, readings, strict=True)
            if r.text.strip() and r.score >= self.min_score
        )

    def recognise(self, lines: Sequence[Image.Image]) -> tuple[Recognition, ...]:
        """Read ready-cut single-line pictures with the recogniser alone (no detection)."""
        if not lines:
            return ()
        with self._lock:
            return self._rec([to_bgr(line) for line in lines], tight=True)

    def warm_up(self, size: tuple[int, int] = (1024, 1024)) -> None:
        """Read a synthetic picture of `size` once: onnxruntime's first run at a new input size
        costs more than the next ones."""
        from PIL import Image, ImageDraw, ImageFont

        picture = Image.new("RGB", size, (235, 230, 215))
        font = ImageFont.load_default(max(16, size[1] // 12))
        ImageDraw.Draw(picture).text(
            (size[0] // 10, size[1] // 3), "Warm up 2025", fill=(20, 20, 20), font=font
        )
        self.read(picture)
