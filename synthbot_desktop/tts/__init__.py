"""Speech providers (ElevenLabs, Piper) behind one streaming protocol."""
