"""Microphone capture, voice activity/endpointing and playback (sounddevice)."""
