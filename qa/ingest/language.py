"""Warn when a document is not in English: docqa's embedder, reader and rules are English-only."""

from __future__ import annotations

import threading

SAMPLE_CHARS = 5000
MIN_LETTERS = 200
MIN_PROBABILITY = 0.90

# langdetect's codes, named for the warning; a code missing here is shown as it is.
_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "es": "Spanish", "et": "Estonian",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kn": "Kannada",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mr": "Marathi",
    "ne": "Nepali", "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "so": "Somali", "sq": "Albanian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh-cn": "Chinese", "zh-tw": "Chinese",
}  # fmt: skip
# langdetect's factory is global and loads its profiles on first use; detection itself is not thread-safe.
_lock = threading.Lock()


def _sample(text: str) -> str:
    """Up to SAMPLE_CHARS from the document's middle, where front matter and boilerplate are rarest."""
    if len(text) <= SAMPLE_CHARS:
        return text
    start = (len(text) - SAMPLE_CHARS) // 2
    return text[start : start + SAMPLE_CHARS]


def detect_language(text: str) -> tuple[str, float] | None:
    """(language code, probability) of `text`'s likeliest language, or None when too little to tell."""
    sample = _sample(text)
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:
        DetectorFactory.seed = 0  # the same text always gets the same answer
        try:
            best = detect_langs(sample)[0]
        except LangDetectException:
            return None
    return str(best.lang), float(best.prob)


def language_warning(text: str) -> str | None:
    """The warning for a document confidently in another language than English, else None."""
    found = detect_language(text)
    if found is None:
        return None
    code, probability = found
    if code == "en" or probability < MIN_PROBABILITY:
        return None
    name = _NAMES.get(code, code)
    return f"looks like {name} ({code}), not English: docqa's models read English only, so answers may be poor."
