"""Calibrate the length-ratio check on NTREX-128 and print the constants for quality/calibration.py.

For every language, d = log(chars of translation / chars of English) over all 1,997 pairs. The
centre is the median of d; the spread grows for short texts, so it is fitted as
sigma(L)² = a² + b²/L (L = English characters) on robust variances (1.4826·MAD)² of ten
source-length bins. Code, URLs and placeholders are not counted (the check does the same).

    python benchmarks/quality_calibrate.py        # prints LENGTH_RATIO = {...}
"""

from __future__ import annotations

import math
import statistics

from quality_ntrex import FILE_CODES, lines

from okapi.quality.heuristics import prose_length


def fit(lengths: list[int], deviations: list[float], bins: int = 10) -> tuple[float, float]:
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    xs, ys = [], []
    for k in range(bins):
        chunk = order[k * len(order) // bins : (k + 1) * len(order) // bins]
        devs = [deviations[i] for i in chunk]
        centre = statistics.median(devs)
        mad = statistics.median(abs(v - centre) for v in devs) * 1.4826
        xs.append(1 / statistics.median(lengths[i] for i in chunk))
        ys.append(mad**2)
    # least squares for y = A + B·x with A, B ≥ 0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    slope = max(slope, 0.0)
    intercept = max(my - slope * mx, 1e-4)
    return math.sqrt(intercept), math.sqrt(slope)


def main() -> None:
    english = lines("en")
    print("# python benchmarks/quality_calibrate.py  (NTREX-128, 1,997 pairs per language)")
    print("LENGTH_RATIO: dict[str, tuple[float, float, float]] = {  # code: (centre, a, b)")
    for code in sorted(FILE_CODES):
        pairs = [(prose_length(e), prose_length(t)) for e, t in zip(english, lines(code), strict=True)]
        pairs = [(e, t) for e, t in pairs if e and t]
        logs = [math.log(t / e) for e, t in pairs]
        centre = statistics.median(logs)
        a, b = fit([e for e, _ in pairs], [v - centre for v in logs])
        print(f'    "{code}": ({centre:.3f}, {a:.3f}, {b:.3f}),')
    print("}")


if __name__ == "__main__":
    main()
