"""Benchmark: filter accuracy on real parallel text (NTREX-128), our checks against langdetect alone.

For each of the 26 Okapi languages, N sentence pairs (default 300, seeded) are checked as they are
(genuine human translations: they must be kept) and after five corruptions (they must be caught):

- wrong_language   the same sentence's translation in another Okapi language, not a look-alike
- other_sentence   another sentence's translation in the right language
- english_copy     the English source copied through
- truncated        the translation cut to half its characters (at a space where there is one)
- answer           an on-topic text in the right language instead of the translation: the next
                   two sentences of the same news story (a model that answered or continued)
- lookalike        the same sentence's human translation in the look-alike language (hi/mr/ne,
                   sr/hr, ru/uk; '-' where NTREX has none)

Multiple-choice items (`--items N`, default 200 per language) are assembled from NTREX's human
translations: a sentence as the question and four short sentences as options, judged by the
m_mmlu builder's checks; their corruptions are listed in ITEM_CORRUPTIONS. The HPLT prompts
(50 human-translated instruction prompts in bn es fr hi ru zh) are judged by the instructions
builder's checks: false rejects only.

Our suite is the instructions builder's checks for the language's tier, without the LLM step
(no back-translation) and without the duplicates check (it judges a whole dataset). langdetect
alone (seeded) rejects a text whose label is not an accepted look-alike. A second table scores
back-translation chrF with an *oracle* back-translator (the English the text really came from):
an upper bound for what back-translation adds, since real back-translations are imperfect; the
chrF of unrelated English sentence pairs (the floor a swap falls to) is printed with it.

Goals: false rejects ≤ 1.5% of genuine pairs and items in every language (≤ 2% of HPLT prompts); recall ≥ 95% for each corruption
in every language. Misses are printed, not hidden.

    python benchmarks/quality_filter.py              # 300 sentences, 200 items per language
    python benchmarks/quality_filter.py --n 100 --langs vi,sr,hi --checks
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from quality_ntrex import FILE_CODES, HPLT_LANGS, documents, hplt_prompts, lines, sample_indices

from okapi.builders import get_builder
from okapi.languages import OKAPI_LANGUAGES, Language, get_language
from okapi.quality import BackTranslationScore, Duplicates
from okapi.quality.backtranslation import chrf
from okapi.quality.checks import Check
from okapi.quality.langid import accepted_labels
from okapi.records import Example

CORRUPTIONS = ("wrong_language", "other_sentence", "english_copy", "truncated", "answer", "lookalike")
# The look-alike languages NTREX has a human translation in (no Malay or Bosnian there).
LOOKALIKE_SOURCES = {
    "hi": ("mr", "ne"),
    "mr": ("hi", "ne"),
    "ne": ("hi", "mr"),
    "sr": ("hr",),
    "hr": ("sr",),
    "ru": ("uk",),
    "uk": ("ru",),
}


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
        if code in LOOKALIKE_SOURCES:
            cases.append(case("lookalike", lines(rng.choice(LOOKALIKE_SOURCES[code]))[i], english[i]))
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


MAX_FALSE = 0.015  # genuine sentences and items
MAX_FALSE_PROMPTS = 0.02  # HPLT prompts
MIN_RECALL = 0.95


def row_text(label: str, r: dict[str, float], corruptions: tuple[str, ...], width: int = 14) -> str:
    cells = [f"{fmt(r[k], r[k] >= MIN_RECALL) if k in r else '-':>{width}}" for k in corruptions]
    return f"{label}{fmt(r['genuine'], r['genuine'] <= MAX_FALSE)}    " + "".join(cells)


def mean_line(name: str, per_lang: list[dict[str, float]], corruptions: tuple[str, ...]) -> str:
    parts = [f"false rejects {100 * statistics.fmean(r['genuine'] for r in per_lang):.2f}%"]
    for k in corruptions:
        values = [r[k] for r in per_lang if k in r]
        parts.append(f"{k} {100 * statistics.fmean(values):.1f}%" if values else f"{k} -")
    return f"  {name:<11} " + "  ".join(parts)


def goal_misses(code: str, r: dict[str, float], corruptions: tuple[str, ...], what: str) -> list[str]:
    misses = [f"{code} {what} false rejects {100 * r['genuine']:.1f}%"] if r["genuine"] > MAX_FALSE else []
    return misses + [
        f"{code} {what} {k} recall {100 * r[k]:.1f}%" for k in corruptions if r.get(k, 1) < MIN_RECALL
    ]


# -- multiple-choice items assembled from NTREX's human translations

ITEM_CORRUPTIONS = (
    "options_english",  # every option left as its English text, the question translated
    "other_question",  # the question of another item (semantic: back-translation)
    "question_language",  # the question alone in another, not look-alike, language
    "option_language",  # one option in another language
    "collapsed",  # two options translated to one text
    "answer_leak",  # the correct option's text written into the question
    "answer_swap",  # the correct option and a distractor swapped (semantic: back-translation)
    "truncated",  # the question cut to half its characters
    "lookalike",  # the whole item in the look-alike language
)
OPTIONS = ("option_a", "option_b", "option_c", "option_d")


@dataclass(frozen=True)
class ItemCase:
    kind: str
    source: Example
    translated: Example
    back: Example  # the English each translated field came from (the oracle back-translator)


def make_item_cases(code: str, n: int, seed: int = 0) -> list[ItemCase]:
    rng = random.Random(f"items-{seed}-{code}")
    english, target = lines("en"), lines(code)
    others = [c for c in OKAPI_LANGUAGES if c not in accepted_labels(code) and c != code]
    others = [c for c in others if c not in LOOKALIKE_SOURCES.get(code, ())]
    # options are the shorter sentences (a quarter of NTREX): closer to real options
    short = sorted(range(len(english)), key=lambda k: len(english[k]))[: len(english) // 4]
    questions = [k for k in range(len(english)) if k not in set(short)]
    cases = []
    for number, q in enumerate(sorted(rng.sample(questions, n))):
        opts = rng.sample(short, 4)
        answer = rng.randrange(4)
        meta = {"answer": "ABCD"[answer]}
        ids = {"instruction": q, **dict(zip(OPTIONS, opts, strict=True))}
        src = Example(f"{code}-item{number}", {f: english[k] for f, k in ids.items()}, meta=meta)

        def case(
            kind: str,
            fields: dict[str, int | str],
            lang_lines: list[str] = target,
            src: Example = src,
            meta: dict = meta,
        ) -> ItemCase:
            # a field given as a line number is that line's translation, with its English as the back
            text = {f: lang_lines[v] if isinstance(v, int) else v for f, v in fields.items()}
            back = {f: english[v] if isinstance(v, int) else src.fields[f] for f, v in fields.items()}
            return ItemCase(kind, src, Example(src.id, text, code, meta=meta), Example(src.id, back, "en"))

        cases.append(case("genuine", ids))
        cases.append(case("options_english", {**ids, **{o: english[ids[o]] for o in OPTIONS}}))
        other_q = rng.choice([k for k in questions if k != q])
        cases.append(case("other_question", {**ids, "instruction": other_q}))
        wrong = lines(rng.choice(others))
        cases.append(case("question_language", {**ids, "instruction": wrong[q]}))
        o = rng.choice(OPTIONS)
        cases.append(case("option_language", {**ids, o: wrong[ids[o]]}))
        a, b = rng.sample(OPTIONS, 2)
        cases.append(case("collapsed", {**ids, b: ids[a]}))
        correct = OPTIONS[answer]
        leak = f"{target[q]} ({target[ids[correct]]})"
        leaked = case("answer_leak", {**ids, "instruction": leak})
        back = replace(
            leaked.back,
            fields={**leaked.back.fields, "instruction": f"{english[q]} ({english[ids[correct]]})"},
        )
        cases.append(replace(leaked, back=back))
        distractor = rng.choice([x for x in OPTIONS if x != correct])
        cases.append(case("answer_swap", {**ids, correct: ids[distractor], distractor: ids[correct]}))
        cut = case("truncated", {**ids, "instruction": truncate_half(target[q])})
        back = replace(cut.back, fields={**cut.back.fields, "instruction": truncate_half(english[q])})
        cases.append(replace(cut, back=back))
        if code in LOOKALIKE_SOURCES:
            cases.append(case("lookalike", ids, lines(rng.choice(LOOKALIKE_SOURCES[code]))))
    return cases


def item_checks(lang: Language) -> tuple[list[Check], BackTranslationScore]:
    checks = get_builder("m_mmlu").checks_for(lang)
    bt = next(c for c in checks if isinstance(c, BackTranslationScore))
    return [c for c in checks if c is not bt], bt


def judge_items(cases: list[ItemCase], lang: Language) -> tuple[list[bool], list[bool], list[set[str]]]:
    """(rejected without back-translation, rejected with the oracle's, reasons) per case."""
    checks, bt = item_checks(lang)
    plain, oracle, reasons = [], [], []
    for c in cases:
        results = [check(c.translated, c.source, lang) for check in checks]
        failed = {r.reason or "" for r in results if not r.keep}
        back = bt(c.translated, c.source, lang, c.back)
        plain.append(bool(failed))
        oracle.append(bool(failed) or not back.keep)
        reasons.append(failed | ({back.reason or ""} if not back.keep else set()))
    return plain, oracle, reasons


def run_items(codes: list[str], n: int, seed: int) -> list[str]:
    print(f"\nMULTIPLE-CHOICE ITEMS from NTREX's human translations, {n} per language (m_mmlu checks)")
    print(
        "recall per corruption (%) and false rejects of genuine items (%); oracle = with the oracle back-translator"
    )
    print(f"{'lang':<5}{'method':<8}{'false rej':>10}" + "".join(f"{k[:11]:>12}" for k in ITEM_CORRUPTIONS))
    misses: list[str] = []
    plain_all, oracle_all = [], []
    why: dict[str, Counter[str]] = defaultdict(Counter)
    for code in codes:
        lang = get_language(code)
        cases = make_item_cases(code, n, seed)
        kinds = [c.kind for c in cases]
        plain, oracle, reasons = judge_items(cases, lang)
        for k, r in zip(kinds, reasons, strict=True):
            why[k].update(r)
        for method, rejected, store in (("surface", plain, plain_all), ("oracle", oracle, oracle_all)):
            r = rates(kinds, rejected)
            store.append(r)
            print(row_text(f"{code:<5}{method:<8}", r, ITEM_CORRUPTIONS, 12))
        misses += goal_misses(code, rates(kinds, oracle), ITEM_CORRUPTIONS, "items (oracle)")
        r = rates(kinds, plain)
        misses += [m for m in goal_misses(code, r, SURFACE_ITEM, "items (surface)")]
    print("mean over languages:")
    print(mean_line("surface", plain_all, ITEM_CORRUPTIONS))
    print(mean_line("oracle", oracle_all, ITEM_CORRUPTIONS))
    print(
        "reason codes per case kind: " + "; ".join(f"{k}: {dict(v.most_common(4))}" for k, v in why.items())
    )
    return misses


# corruptions a surface check should catch without back-translation
SURFACE_ITEM = (
    "options_english",
    "question_language",
    "option_language",
    "collapsed",
    "answer_leak",
    "truncated",
    "lookalike",
)


def run_hplt() -> list[str]:
    prompts = hplt_prompts()
    print("\nHPLT PROMPTS (human-translated instruction prompts) with the instructions builder's checks")
    misses = []
    for code in HPLT_LANGS:
        lang = get_language(code)
        checks = our_checks(lang)
        pairs = [(e, t) for e, t in zip(prompts["en"], prompts[code], strict=True) if e and t]
        failed = []
        for n, (e, t) in enumerate(pairs):
            src, tr = Example(f"p{n}", {"instruction": e}), Example(f"p{n}", {"instruction": t}, code)
            names = [f"{c.name}:{r.reason}" for c in checks if not (r := c(tr, src, lang)).keep]
            if names:
                failed.append(f"{n}:{','.join(names)}")
        rate = len(failed) / len(pairs)
        ok = rate <= MAX_FALSE_PROMPTS
        print(f"{code:<5}false rejects {fmt(rate, ok)} ({len(failed)}/{len(pairs)}) {' '.join(failed)}")
        misses += [] if ok else [f"{code} HPLT false rejects {100 * rate:.1f}%"]
    return misses


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="sentences per language")
    parser.add_argument("--items", type=int, default=200, help="multiple-choice items per language (0: none)")
    parser.add_argument("--langs", default="okapi", help="codes, or 'okapi' for all 26")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checks", action="store_true", help="also print precision/recall per check")
    parser.add_argument("--no-langdetect", action="store_true")
    parser.add_argument("--no-hplt", action="store_true")
    args = parser.parse_args()
    codes = sorted(FILE_CODES) if args.langs == "okapi" else args.langs.split(",")

    header = f"{'lang':<5}{'method':<11}{'false rej':>10}" + "".join(f"{k[:12]:>14}" for k in CORRUPTIONS)
    print(f"NTREX-128, {args.n} sentences per language, seed {args.seed}; '!' marks a missed goal")
    print("recall per corruption (%) and false rejects of genuine pairs (%)\n" + header)
    per_check: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    misses: list[str] = []
    totals: dict[str, list[dict[str, float]]] = defaultdict(list)
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
            print(row_text(f"{code:<5}{method:<11}", r, CORRUPTIONS))
            totals[method].append(r)
            if method == "ours":
                misses += goal_misses(code, r, CORRUPTIONS, "sentences")
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
            print(mean_line(method, totals[method], CORRUPTIONS))
    cases_total = sum(len(make_cases(c, args.n, args.seed)) for c in codes[:1]) * len(codes)
    print(
        f"\ntime: our per-record suite {time_ours:.1f} s ({cases_total / time_ours:,.0f} records/s), "
        + (f"langdetect alone {time_ld:.1f} s ({cases_total / time_ld:,.0f} records/s)" if time_ld else "")
    )
    print("\nwith an ORACLE back-translation (perfect back-translator; upper bound) and min chrF per tier:")
    print(f"{'lang':<5}{'min chrF':>9}{'false rej':>10}" + "".join(f"{k[:12]:>14}" for k in CORRUPTIONS))
    for code, threshold, r in oracle_rows:
        print(row_text(f"{code:<5}{threshold:>9.0f} ", r, CORRUPTIONS))
    print(mean_line("oracle", [r for _, _, r in oracle_rows], CORRUPTIONS))
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
    if args.items:
        misses += run_items(codes, args.items, args.seed)
    if not args.no_hplt:
        misses += run_hplt()
    print(
        "\ngoals missed (surface checks for surface corruptions, oracle back-translation for the rest): "
        + ("; ".join(misses) or "none")
    )


if __name__ == "__main__":
    main()
