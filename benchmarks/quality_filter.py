"""Benchmark: filter accuracy on real parallel text (NTREX-128), our checks against langdetect alone.

For each of the 26 Okapi languages, N sentence pairs (default 300, seeded) are checked as they are
(genuine human translations: they must be kept) and after five corruptions (they must be caught):

- wrong_language   the same sentence's translation in another Okapi language, not a look-alike
- other_sentence   another sentence's translation in the right language
- english_copy     the English source copied through
- truncated        the translation cut to half its characters (at a space where there is one)
- answer           an on-topic text in the right language instead of the translation: the next
                   two sentences of the same news story (a model that answered or continued)

Our suite is the instructions builder's checks for the language's tier, without the LLM step
(no back-translation) and without the duplicates check (it judges a whole dataset). langdetect
alone (seeded) rejects a text whose label is not an accepted look-alike. A second table scores
back-translation chrF with an *oracle* back-translator (the English the text really came from):
an upper bound for what back-translation adds, since real back-translations are imperfect; the
chrF of unrelated English sentence pairs (the floor a swap falls to) is printed with it.

Goals: false rejects ≤ 2% of genuine pairs in every language; recall ≥ 95% for each corruption
in every language. Misses are printed, not hidden.

    python benchmarks/quality_filter.py              # 300 sentences per language (~3 min)
    python benchmarks/quality_filter.py --n 100 --langs vi,sr,hi --checks
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from quality_ntrex import FILE_CODES, documents, lines, sample_indices

from okapi.builders import get_builder
from okapi.languages import OKAPI_LANGUAGES, Language, get_language
from okapi.quality import BackTranslationScore, Duplicates
from okapi.quality.backtranslation import chrf
from okapi.quality.checks import Check
from okapi.quality.langid import accepted_labels
from okapi.records import Example

CORRUPTIONS = ("wrong_language", "other_sentence", "english_copy", "truncated", "answer")


@dataclass(frozen=True)
class Case:
    kind: str  # "genuine" or a corruption
    source: Example
    translated: Example
    oracle_back: str  # the English the translated text came from


def truncate_half(text: str) -> str:
    half = text[: len(text) // 2]
    cut = half.rsplit(" ", 1)[0] if " " in half else half
    return cut.rstrip(" ,;:")


def make_cases(code: str, n: int, seed: int = 0) -> list[Case]:
    rng = random.Random(f"{seed}-{code}")
    english, target, docs = lines("en"), lines(code), documents()
    others = [c for c in OKAPI_LANGUAGES if c not in accepted_labels(code) and c != code]
    cases = []
    for i in sample_indices(n, seed):
        src = Example(f"{code}-{i}", {"text": english[i]})

        def case(kind: str, text: str, back: str, i: int = i, src: Example = src) -> Case:
            return Case(kind, src, Example(f"{code}-{i}-{kind}", {"text": text}, code), back)

        cases.append(case("genuine", target[i], english[i]))
        wrong = rng.choice(others)
        cases.append(case("wrong_language", lines(wrong)[i], english[i]))
        j = rng.choice([k for k in range(len(english)) if k != i])
        cases.append(case("other_sentence", target[j], english[j]))
        cases.append(case("english_copy", english[i], english[i]))
        cases.append(case("truncated", truncate_half(target[i]), truncate_half(english[i])))
        story = [k for k in range(len(english)) if docs[k] == docs[i] and k != i]
        after = [k for k in story if k > i][:2] or [k for k in story if k < i][-2:] or [j]
        cases.append(case("answer", " ".join(target[k] for k in after), " ".join(english[k] for k in after)))
    return cases


def our_checks(lang: Language) -> list[Check]:
    builder = get_builder("instructions")
    return [c for c in builder.checks_for(lang) if not isinstance(c, BackTranslationScore | Duplicates)]


def run_suite(cases: list[Case], lang: Language, checks: list[Check]) -> list[set[str]]:
    """The names of the checks each case failed."""
    out = []
    for case in cases:
        out.append({c.name for c in checks if not c(case.translated, case.source, lang).keep})
    return out


_LANGDETECT = {"zh-cn": "zh", "zh-tw": "zh"}


def run_langdetect(cases: list[Case], lang: Language) -> list[bool]:
    """True where langdetect alone would reject (its label is not an accepted look-alike)."""
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    accepted = accepted_labels(lang.code)
    rejected = []
    for case in cases:
        try:
            label = detect(case.translated.fields["text"])
        except LangDetectException:
            rejected.append(False)  # no letters: cannot judge
            continue
        rejected.append(_LANGDETECT.get(label, label) not in accepted)
    return rejected


def rates(kinds: list[str], rejected: list[bool]) -> dict[str, float]:
    total, hit = Counter(kinds), Counter(k for k, r in zip(kinds, rejected, strict=True) if r)
    return {kind: hit[kind] / total[kind] for kind in total}


def fmt(value: float, goal_ok: bool) -> str:
    return f"{100 * value:5.1f}{' ' if goal_ok else '!'}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="sentences per language")
    parser.add_argument("--langs", default="okapi", help="codes, or 'okapi' for all 26")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checks", action="store_true", help="also print precision/recall per check")
    parser.add_argument("--no-langdetect", action="store_true")
    args = parser.parse_args()
    codes = sorted(FILE_CODES) if args.langs == "okapi" else args.langs.split(",")

    header = f"{'lang':<5}{'method':<11}{'false rej':>10}" + "".join(f"{k[:12]:>14}" for k in CORRUPTIONS)
    print(f"NTREX-128, {args.n} sentences per language, seed {args.seed}; '!' marks a missed goal")
    print("recall per corruption (%) and false rejects of genuine pairs (%)\n" + header)
    per_check: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    misses: list[str] = []
    totals: dict[str, list[float]] = defaultdict(list)
    oracle_rows = []
    floor: list[float] = []
    time_ours = time_ld = 0.0
    for code in codes:
        lang = get_language(code)
        cases = make_cases(code, args.n, args.seed)
        kinds = [c.kind for c in cases]
        checks = our_checks(lang)
        start = time.perf_counter()
        failed = run_suite(cases, lang, checks)
        time_ours += time.perf_counter() - start
        methods = {"ours": [bool(f) for f in failed]}
        if not args.no_langdetect:
            start = time.perf_counter()
            methods["langdetect"] = run_langdetect(cases, lang)
            time_ld += time.perf_counter() - start
        for method, rejected in methods.items():
            r = rates(kinds, rejected)
            row = f"{code:<5}{method:<11}" + fmt(r["genuine"], r["genuine"] <= 0.02) + "    "
            row += "".join(f"{fmt(r[k], r[k] >= 0.95):>14}" for k in CORRUPTIONS)
            print(row)
            totals[method].append(r["genuine"])
            for k in CORRUPTIONS:
                totals[f"{method}.{k}"].append(r[k])
            if method == "ours":
                misses += [f"{code} false rejects {100 * r['genuine']:.1f}%"] if r["genuine"] > 0.02 else []
                misses += [f"{code} {k} recall {100 * r[k]:.1f}%" for k in CORRUPTIONS if r[k] < 0.95]
        for check in checks:
            flagged = [check.name in f for f in failed]
            tp = sum(f and k != "genuine" for f, k in zip(flagged, kinds, strict=True))
            fp = sum(f and k == "genuine" for f, k in zip(flagged, kinds, strict=True))
            bad = sum(k != "genuine" for k in kinds)
            per_check[check.name][code] = (tp / (tp + fp) if tp + fp else 1.0, tp / bad)
        # oracle back-translation: chrF of the English the text came from against the source
        builder_bt = next(
            c for c in get_builder("instructions").checks_for(lang) if isinstance(c, BackTranslationScore)
        )
        bt_rejected = [chrf(c.oracle_back, c.source.fields["text"]) < builder_bt.min_chrf for c in cases]
        combined = [bool(f) or b for f, b in zip(failed, bt_rejected, strict=True)]
        oracle_rows.append((code, builder_bt.min_chrf, rates(kinds, combined)))
        floor += [chrf(c.oracle_back, c.source.fields["text"]) for c in cases if c.kind == "other_sentence"]

    print("\nmean over languages:")
    for method in ("ours", "langdetect"):
        if totals[method]:
            print(
                f"  {method:<11} false rejects {100 * statistics.fmean(totals[method]):.2f}%  "
                + "  ".join(
                    f"{k} {100 * statistics.fmean(totals[f'{method}.{k}']):.1f}%" for k in CORRUPTIONS
                )
            )
    cases_total = len(codes) * args.n * 6
    print(
        f"\ntime: our per-record suite {time_ours:.1f} s ({cases_total / time_ours:,.0f} records/s), "
        + (f"langdetect alone {time_ld:.1f} s ({cases_total / time_ld:,.0f} records/s)" if time_ld else "")
    )
    print("\nwith an ORACLE back-translation (perfect back-translator; upper bound) and min chrF per tier:")
    print(f"{'lang':<5}{'min chrF':>9}{'false rej':>10}" + "".join(f"{k[:12]:>14}" for k in CORRUPTIONS))
    for code, threshold, r in oracle_rows:
        row = f"{code:<5}{threshold:>9.0f}" + fmt(r["genuine"], r["genuine"] <= 0.02) + "    "
        print(row + "".join(f"{fmt(r[k], r[k] >= 0.95):>14}" for k in CORRUPTIONS))
    floor.sort()
    print(
        f"chrF of unrelated English sentence pairs (n={len(floor)}): median {statistics.median(floor):.1f}, "
        f"p95 {floor[int(0.95 * (len(floor) - 1))]:.1f}, p99 {floor[int(0.99 * (len(floor) - 1))]:.1f}, "
        f"max {floor[-1]:.1f}"
    )
    if args.checks:
        print("\nper check: precision / recall (%) over all corruptions, by language")
        names = list(per_check)
        print(f"{'lang':<5}" + "".join(f"{n[:15]:>17}" for n in names))
        for code in codes:
            print(
                f"{code:<5}"
                + "".join(
                    f"{100 * per_check[n][code][0]:>8.1f}/{100 * per_check[n][code][1]:<8.1f}" for n in names
                )
            )
    print("\ngoals missed (our checks, no back-translation): " + ("; ".join(misses) or "none"))


if __name__ == "__main__":
    main()
