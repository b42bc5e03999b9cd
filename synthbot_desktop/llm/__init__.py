"""LLM providers behind one streaming protocol (see :mod:`synthbot_desktop.llm.base`)."""
