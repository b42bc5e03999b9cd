"""Small reusable widgets of the main window (no business logic)."""
