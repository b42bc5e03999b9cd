"""One light style sheet: calm colours, big talk button, readable bubbles."""

STYLE = """
QMainWindow, QDialog { background: #f6f7f9; }
#conversation, #conversation_inner { background: #ffffff; border: none; }
#placeholder { color: #8a939c; font-size: 15px; padding: 40px; }
QFrame#bubble_user { background: #2e7dd9; border-radius: 14px; }
QFrame#bubble_user QLabel { color: white; font-size: 14px; }
QFrame#bubble_assistant { background: #eef1f5; border-radius: 14px; }
QFrame#bubble_assistant QLabel { color: #1d2329; font-size: 14px; }
QFrame#bubble_system { background: #fff6dd; border-radius: 10px; }
QLabel#bubble_note { color: #8a939c; font-size: 11px; font-style: italic; }
QFrame#bubble_user QLabel#bubble_note { color: #d6e6fb; }
#error_banner { background: #fdecea; border: 1px solid #f5c2bd; border-radius: 8px; }
#error_text { color: #8c1d18; }
QPushButton#talk_button { background: #2e7dd9; color: white; font-size: 17px; font-weight: 600;
    border-radius: 32px; padding: 10px 28px; border: none; }
QPushButton#talk_button:pressed, QPushButton#talk_button:checked { background: #1f5fae; }
QPushButton#talk_button[state="speaking"] { background: #d9622b; }
QPushButton#talk_button[state="thinking"], QPushButton#talk_button[state="transcribing"] { background: #b58a1e; }
QPushButton#talk_button[state="hearing"] { background: #2e9d5b; }
QPushButton#stop { padding: 8px 16px; }
QLabel#lock_note { color: #8a6d1e; }
QLabel#usage_totals { font-size: 14px; padding: 6px 0; }
"""
