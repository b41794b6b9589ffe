"""Constants calibrated on real parallel text, each with the command that produced it.

Length ratio (used by `length_ratio_v1`): for each language, the centre of
log(characters of translation / characters of English) and the spread sigma(L)² = a² + b²/L,
L = English characters, fitted on all 1,997 NTREX-128 pairs (human news translations). Code,
URLs and placeholders are not counted. Reproduce with the command in the first comment line.
"""

# python benchmarks/quality_calibrate.py  (NTREX-128, 1,997 pairs per language)
LENGTH_RATIO: dict[str, tuple[float, float, float]] = {  # code: (centre, a, b)
    "ar": (-0.086, 0.056, 1.674),
    "bn": (-0.013, 0.101, 0.973),
    "ca": (0.128, 0.056, 1.216),
    "da": (0.017, 0.032, 1.212),
    "de": (0.172, 0.072, 1.055),
    "es": (0.142, 0.038, 1.361),
    "fr": (0.167, 0.052, 1.282),
    "hi": (0.052, 0.052, 1.254),
    "hr": (0.027, 0.065, 1.246),
    "hu": (0.108, 0.051, 1.534),
    "id": (0.146, 0.025, 1.254),
    "it": (0.152, 0.010, 1.341),
    "kn": (0.076, 0.088, 1.218),
    "ml": (0.208, 0.088, 1.267),
    "mr": (0.052, 0.010, 1.355),
    "ne": (0.000, 0.050, 1.316),
    "nl": (0.158, 0.081, 1.161),
    "ro": (0.156, 0.010, 1.702),
    "ru": (0.099, 0.025, 1.646),
    "sk": (0.016, 0.055, 1.278),
    "sr": (0.025, 0.046, 1.399),
    "ta": (0.240, 0.131, 1.201),
    "te": (0.014, 0.096, 1.241),
    "uk": (0.051, 0.073, 1.467),
    "vi": (0.093, 0.020, 1.487),
    "zh": (-1.079, 0.128, 1.662),
}

# Languages NTREX was not measured for: a typical centre and a wide spread.
DEFAULT_LENGTH_RATIO = (0.1, 0.1, 1.6)

# Per kind of field: (shift, scale) applied to the language's z, z' = (z − shift) / scale, so a
# kind's human translations spread like news sentences do. Measured on NTREX-128 and the HPLT
# prompts; reproduce with the command below. "sentence" is the identity by construction.
# python benchmarks/quality_calibrate.py --kinds
KIND_SPREAD: dict[str, tuple[float, float]] = {  # kind: (shift, scale)
    "sentence": (0.000, 1.000),  # 51922 pairs
    "option": (0.223, 1.212),  # 5798 pairs
    "question": (-0.034, 1.207),  # 1309 pairs
    "answer": (-0.022, 1.222),  # 10634 pairs
    "instruction": (-0.299, 1.294),  # 299 pairs
}
