"""Speech recognition with faster-whisper; models resolved offline."""
