"""The web chat: `python app.py [--host 127.0.0.1] [--port 7860] [--auth user:password]` (see rag/web/launch.py)."""
import sys

from rag.embedding.embedder import offline_environment

if __name__ == "__main__":
    offline_environment()  # no hub or telemetry, before gradio and transformers are imported
    from rag.web.launch import main

    sys.exit(main())
