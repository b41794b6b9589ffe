"""Registry of target languages: the 26 Okapi languages plus others that can be targeted by code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1
    name: str  # English name
    native: str  # name in the language itself
    script: str  # ISO 15924 script name
    tier: str  # "high" | "medium" | "low" (Okapi, by CommonCrawl share) | "other"

    @property
    def okapi(self) -> bool:
        return self.tier != "other"


_ROWS = [
    # high
    ("ru", "Russian", "Русский", "Cyrillic", "high"),
    ("de", "German", "Deutsch", "Latin", "high"),
    ("zh", "Chinese", "中文", "Han", "high"),
    ("fr", "French", "Français", "Latin", "high"),
    ("es", "Spanish", "Español", "Latin", "high"),
    ("it", "Italian", "Italiano", "Latin", "high"),
    ("nl", "Dutch", "Nederlands", "Latin", "high"),
    ("vi", "Vietnamese", "Tiếng Việt", "Latin", "high"),
    # medium
    ("id", "Indonesian", "Bahasa Indonesia", "Latin", "medium"),
    ("ar", "Arabic", "العربية", "Arabic", "medium"),
    ("hu", "Hungarian", "Magyar", "Latin", "medium"),
    ("ro", "Romanian", "Română", "Latin", "medium"),
    ("da", "Danish", "Dansk", "Latin", "medium"),
    ("sk", "Slovak", "Slovenčina", "Latin", "medium"),
    ("uk", "Ukrainian", "Українська", "Cyrillic", "medium"),
    ("ca", "Catalan", "Català", "Latin", "medium"),
    ("sr", "Serbian", "Srpski", "Latin", "medium"),  # Okapi's Serbian is Latin script
    ("hr", "Croatian", "Hrvatski", "Latin", "medium"),
    ("hi", "Hindi", "हिन्दी", "Devanagari", "medium"),
    # low
    ("bn", "Bengali", "বাংলা", "Bengali", "low"),
    ("ta", "Tamil", "தமிழ்", "Tamil", "low"),
    ("ne", "Nepali", "नेपाली", "Devanagari", "low"),
    ("ml", "Malayalam", "മലയാളം", "Malayalam", "low"),
    ("mr", "Marathi", "मराठी", "Devanagari", "low"),
    ("te", "Telugu", "తెలుగు", "Telugu", "low"),
    ("kn", "Kannada", "ಕನ್ನಡ", "Kannada", "low"),
    # others users target (the original release also carried eu gu hy pt sv)
    ("en", "English", "English", "Latin", "other"),
    ("eu", "Basque", "Euskara", "Latin", "other"),
    ("gu", "Gujarati", "ગુજરાતી", "Gujarati", "other"),
    ("hy", "Armenian", "Հայերեն", "Armenian", "other"),
    ("pt", "Portuguese", "Português", "Latin", "other"),
    ("sv", "Swedish", "Svenska", "Latin", "other"),
    ("pl", "Polish", "Polski", "Latin", "other"),
    ("cs", "Czech", "Čeština", "Latin", "other"),
    ("tr", "Turkish", "Türkçe", "Latin", "other"),
    ("el", "Greek", "Ελληνικά", "Greek", "other"),
    ("he", "Hebrew", "עברית", "Hebrew", "other"),
    ("fa", "Persian", "فارسی", "Arabic", "other"),
    ("th", "Thai", "ไทย", "Thai", "other"),
    ("ja", "Japanese", "日本語", "Japanese", "other"),
    ("ko", "Korean", "한국어", "Hangul", "other"),
    ("fi", "Finnish", "Suomi", "Latin", "other"),
    ("no", "Norwegian", "Norsk", "Latin", "other"),
    ("bg", "Bulgarian", "Български", "Cyrillic", "other"),
    ("sw", "Swahili", "Kiswahili", "Latin", "other"),
    ("ur", "Urdu", "اردو", "Arabic", "other"),
]

LANGUAGES: dict[str, Language] = {row[0]: Language(*row) for row in _ROWS}
OKAPI_LANGUAGES: tuple[str, ...] = tuple(code for code, lang in LANGUAGES.items() if lang.okapi)
TIERS = ("high", "medium", "low")


class UnknownLanguageError(ValueError):
    pass


def get_language(code: str) -> Language:
    """The language for an ISO 639-1 code; an unknown code lists the valid ones."""
    try:
        return LANGUAGES[code.strip().lower()]
    except KeyError:
        valid = ", ".join(sorted(LANGUAGES))
        raise UnknownLanguageError(
            f"unknown language code {code!r}; valid codes: {valid} (Okapi's 26: {' '.join(OKAPI_LANGUAGES)})"
        ) from None


def parse_languages(spec: str) -> list[Language]:
    """Parse 'vi,fr', 'okapi' (all 26) or a tier name ('high', 'medium', 'low')."""
    codes: list[str] = []
    for part in (p.strip().lower() for p in spec.split(",")):
        if not part:
            continue
        if part == "okapi":
            codes.extend(OKAPI_LANGUAGES)
        elif part in TIERS:
            codes.extend(c for c in OKAPI_LANGUAGES if LANGUAGES[c].tier == part)
        else:
            codes.append(part)
    if not codes:
        raise UnknownLanguageError("no language given; use codes like 'vi,fr', a tier or 'okapi'")
    langs = [get_language(c) for c in dict.fromkeys(codes)]
    if any(lang.code == "en" for lang in langs):
        raise UnknownLanguageError("English is the source language; choose target languages")
    return langs
