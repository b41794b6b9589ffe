"""Calibrate the length-ratio check on NTREX-128 and print the constants for quality/calibration.py.

For every language, d = log(chars of translation / chars of English) over all 1,997 pairs. The
centre is the median of d; the spread grows for short texts, so it is fitted as
sigma(L)² = a² + b²/L (L = English characters) on robust variances (1.4826·MAD)² of ten
source-length bins. Code, URLs and placeholders are not counted (the check does the same).

    python benchmarks/quality_calibrate.py        # prints LENGTH_RATIO = {...}
    python benchmarks/quality_calibrate.py --kinds  # prints KIND_SPREAD = {...}

Kinds of field (`--kinds`), on human translations: sentence = every NTREX line; option = NTREX
lines of at most 50 English characters (headlines, short quotes); question = NTREX lines and
HPLT prompts whose English ends with a question mark; instruction = the HPLT prompts; answer =
4 consecutive NTREX sentences of one story joined. For each kind, shift = median z and scale =
the largest, over languages, 99th percentile of |z − shift| over that of the language's
sentences (never below 1), so a kind's genuine pairs cross the builders' thresholds about as
rarely as news sentences do.
"""

from __future__ import annotations

import argparse
import math
import statistics

from quality_ntrex import FILE_CODES, documents, hplt_prompts, lines

from okapi.quality.heuristics import ending, length_z, prose_length


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


def kind_pairs() -> dict[str, list[tuple[str, str, str]]]:
    """(language, English, human translation) per kind of field."""
    english, docs = lines("en"), documents()
    out: dict[str, list[tuple[str, str, str]]] = {k: [] for k in ("sentence", "option", "question", "answer")}
    for code in sorted(FILE_CODES):
        target = lines(code)
        for i, (e, t) in enumerate(zip(english, target, strict=True)):
            out["sentence"].append((code, e, t))
            if prose_length(e) <= 50:
                out["option"].append((code, e, t))
            if ending(e) == "question":
                out["question"].append((code, e, t))
            if i % 4 == 0 and i + 4 <= len(english) and docs[i] == docs[i + 3]:
                out["answer"].append((code, " ".join(english[i : i + 4]), " ".join(target[i : i + 4])))
    prompts = hplt_prompts()
    out["instruction"] = []
    for code, rows in prompts.items():
        for e, t in zip(prompts["en"], rows, strict=True) if code != "en" else ():
            if e and t:
                out["instruction"].append((code, e, t))
                if ending(e) == "question":
                    out["question"].append((code, e, t))
    return out


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def kinds() -> None:
    zs: dict[str, dict[str, list[float]]] = {}
    for kind, pairs in kind_pairs().items():
        for code, e, t in pairs:
            zs.setdefault(kind, {}).setdefault(code, []).append(length_z(e, t, code))
    reference = {code: quantile([abs(z) for z in values], 0.99) for code, values in zs["sentence"].items()}
    print("# python benchmarks/quality_calibrate.py --kinds")
    print("KIND_SPREAD: dict[str, tuple[float, float]] = {  # kind: (shift, scale)")
    for kind, by_lang in zs.items():
        values = [z for v in by_lang.values() for z in v]
        shift = 0.0 if kind == "sentence" else statistics.median(values)
        # the language whose tail is widest against its own sentences sets the scale
        scale = max(
            1.0,
            *(quantile([abs(z - shift) for z in v], 0.99) / reference[code] for code, v in by_lang.items()),
        )
        print(f'    "{kind}": ({shift:.3f}, {scale:.3f}),  # {len(values)} pairs')
    print("}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kinds", action="store_true", help="print KIND_SPREAD instead of LENGTH_RATIO")
    if parser.parse_args().kinds:
        kinds()
        return
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
