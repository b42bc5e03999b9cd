"""Reply-language helpers: the LLM instruction and the ElevenLabs model for a language."""

from __future__ import annotations

import json

from synthbot_desktop import language as lang
from tests.conftest import SHARED


def test_instruction_names_the_language() -> None:
    assert lang.with_language("Be brief.", "fr-FR") == (
        "Be brief.\n\nThe user is speaking French (language code 'fr'). Reply in French.")
    assert lang.with_language("Be brief.", "auto") == "Be brief."
    assert lang.with_language(None, None) is None


def test_english_only_tts_model_is_replaced_for_other_languages() -> None:
    assert lang.tts_model_for("fr", "eleven_turbo_v2") == lang.DEFAULT_MULTILINGUAL_TTS_MODEL
    assert lang.tts_model_for("fr", "eleven_multilingual_v2") == "eleven_multilingual_v2"
    assert lang.tts_model_for("en", "eleven_turbo_v2") == "eleven_turbo_v2"


def test_chosen_model_is_a_tts_model_in_the_recorded_model_list() -> None:
    models = {m["model_id"]: m for m in json.loads((SHARED / "fixtures" / "elevenlabs_models.json").read_text())}
    chosen = models[lang.DEFAULT_MULTILINGUAL_TTS_MODEL]
    assert chosen["can_do_text_to_speech"] and len(chosen["languages"]) > 1


def test_piper_voice_language_from_name() -> None:
    assert lang.piper_voice_language("joe-us") == "en"
    assert lang.piper_voice_language("/voices/de_DE-thorsten-medium.onnx") == "de"
