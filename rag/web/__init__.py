"""The Gradio web chat and its HTML rendering; `app.py` at the top level only starts it."""
