"""The settings dialog and its pages (each page: load / save / check / restore defaults)."""
