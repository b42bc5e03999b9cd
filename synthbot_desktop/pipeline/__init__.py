"""Turn orchestration: utterance -> transcript -> LLM stream -> chunks -> TTS -> playback."""
