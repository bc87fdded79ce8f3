"""The `rag` command: build, info, search, ask, chat, eval.

Every problem the user can fix is a RagError: one sentence on stderr, exit code 1, no traceback.
Each command imports the stages it runs inside itself ("deferred" below): `rag --help` and a mistyped
flag then answer without loading FAISS, BM25, ONNX Runtime or Gradio (0.3 s against 0.8 s with them).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rag.embedding.embedder import offline_environment
from rag.errors import QuestionError, RagError
from rag.settings import DEFAULT_SOURCE, Settings


def main(argv: list[str] | None = None) -> int:
    offline_environment()
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(source=getattr(args, "source", None), index_dir=getattr(args, "index", None),
                                     answerer=getattr(args, "answerer", None),
                                     base_url=getattr(args, "base_url", None), model=getattr(args, "model", None),
                                     timeout=getattr(args, "timeout", None))
    except RagError as exc:  # a bad environment value
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        return args.run(args, settings) or 0
    except RagError as exc:
        print(f"error: {settings.for_this_index(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rag ask ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


MAX_K = 20  # rag.pipeline.MAX_K, not imported: the parser answers before the pipeline loads (tested equal)


def k_value(text: str) -> int:
    """-k: a whole number of passages, 1 to MAX_K, checked before anything runs (`rag chat -k 0` started and
    then refused every question)."""
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: give a whole number from 1 to {MAX_K}") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"invalid value {k}: give a whole number from 1 to {MAX_K}")
    return k


def _parser() -> argparse.ArgumentParser:
    from rag.answering import answerers  # deferred: see the module docstring

    parser = argparse.ArgumentParser(prog="rag", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run, help: str, answers: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--index", type=Path, help="index folder (default: index/, or $RAG_INDEX)")
        if answers:
            p.add_argument("--answerer", choices=answerers.names(),
                           help="who writes the answer (default: extractive, or $RAG_ANSWERER)")
            p.add_argument("--base-url", help="openai: the endpoint, e.g. http://localhost:11434/v1 "
                                              "(or $RAG_OPENAI_BASE_URL)")
            p.add_argument("--model", help="openai: the model name ($RAG_OPENAI_MODEL); local: a folder, a .gguf "
                                           "file or gemma3-270m ($RAG_LOCAL_MODEL)")
            p.add_argument("--timeout", type=float, help="seconds to wait for a language model (default 60)")
        p.set_defaults(run=run)
        return p

    p = command("build", cmd_build, "Build or update the index from the source text.")
    p.add_argument("--source", type=Path, help="a .txt, .md, .pdf, .html or .docx file, or a folder of them "
                                               "(default: $RAG_SOURCE or the shipped article)")
    p.add_argument("--force", action="store_true", help="re-embed everything instead of reusing vectors")
    p.add_argument("--if-stale", action="store_true", help="do nothing when the index is present and fresh")

    p = command("info", cmd_info, "Show what the index was built from and whether it is stale.")
    p.add_argument("--source", type=Path, help="compare against this source instead of the one built from")
    p.add_argument("--json", action="store_true", help="print it as JSON (the fields GET /api/status starts from)")

    p = command("search", cmd_search, "Show the ranked passages for a query (no answer).")
    p.add_argument("query")
    p.add_argument("-k", type=k_value, default=5, help="passages to show, 1-20 (default 5)")
    p.add_argument("--json", action="store_true")

    p = command("ask", cmd_ask, "Answer a question with cited passages.", answers=True)
    p.add_argument("question", nargs="?")
    p.add_argument("-k", type=k_value, default=5, help="passages to retrieve, 1-20 (default 5)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--batch", type=Path, help="JSONL file with a \"question\" per line; one answer per line")

    p = command("eval", cmd_eval, "Score the bot on a question file (the format of ../shared/eval/dev.jsonl).",
                answers=True)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--questions", type=Path, help="JSONL questions with gold evidence and answers, asked of --index")
    which.add_argument("--suite", type=Path, nargs="?", const=TEST_DOCUMENTS,
                       help="a folder of documents (article.txt + questions.jsonl each, and dev.jsonl for the "
                            "shipped article), each built into its own index; without a folder, the test "
                            "documents (data/corpus/test and data/eval), the figures the README reports")
    p.add_argument("--followups", action="store_true", help="--suite: ask each document's follow-ups "
                   "(followups.jsonl: questions that lean on the ones before them, given as history)")
    p.add_argument("--work", type=Path, help="--suite: where the per-document indexes go (default: a temporary "
                                             "folder; give one to reuse them across runs)")
    p.add_argument("-k", type=k_value, default=5, help="passages per question, 1-20 (default 5)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--baselines", action="store_true", help="also score BM25 alone and dense retrieval alone")
    p.add_argument("--answers", type=Path, help="also write the answers (JSONL; with --suite a folder of one "
                                                "file per document) for ../shared/eval/score.py")

    p = command("chat", cmd_chat, "Ask questions in the terminal; follow-up questions use the conversation.",
                answers=True)
    p.add_argument("-k", type=k_value, default=5, help="passages per question, 1-20 (default 5)")
    return parser


# ---------------------------------------------------------------- commands

TEST_DOCUMENTS = Path("<test documents>")  # `--suite` without a folder: evaluate.TEST

def cmd_build(args, settings: Settings) -> int:
    from rag.embedding.embedders import create_embedder  # deferred: see the module docstring
    from rag.index.progress import TerminalProgress  # deferred: see the module docstring
    from rag.service import RagService  # deferred: see the module docstring

    embedder = create_embedder(settings.embedder)
    if args.if_stale and not args.force:
        reasons = RagService.build_reasons(settings, embedder)
        if not reasons:
            print(f"The index in {settings.index_dir} is fresh; nothing to build.")
            return 0
        print(f"Building: {'; '.join(str(r) for r in reasons)}")
    report = RagService.build(settings, embedder, force=args.force, progress=TerminalProgress())
    print(f"Built {settings.index_dir}: {report.summary()}")
    return 0


def cmd_info(args, settings: Settings) -> int:
    """What the index was built from and whether it is stale; validates the files but loads no model."""
    from rag.embedding.embedders import create_embedder  # deferred: see the module docstring
    from rag.service import RagService  # deferred: see the module docstring

    status = RagService.inspect(settings, create_embedder(settings.embedder))  # its name and dimension; no model
    if args.json:
        print(json.dumps(status.to_json(), indent=2, ensure_ascii=False))
        return 0
    manifest, source = status.manifest, status.source
    files = manifest["source"]["files"]
    print(f"index:    {settings.index_dir}")
    print(f"title:    {manifest.get('title', '')}")
    print(f"source:   {source}")
    for f in files:
        print(f"          {f['name']}  sha256 {f['sha256'][:12]}  {f['chars']:,} chars")
    print(f"chunks:   {manifest['counts']['chunks']}   sentences: {manifest['counts']['sentences']}"
          f"{status.skipped()}")
    print(f"model:    {manifest['model']['name']} ({manifest['model']['dim']} dims), "
          f"{manifest['vector_index']} vector index")
    print(f"built at: {manifest['built_at']}")
    if status.source_unreadable:
        print(f"status:   STALE - {status.why_stale}. Give the document to build from: "
              f"`{settings.hint()} --source PATH`.")
    elif not status.fresh:
        print(f"status:   STALE - {status.why_stale}. Rebuild with `{settings.hint()}`.")
    else:
        print("status:   fresh")
    return 0


def cmd_search(args, settings: Settings) -> int:
    pipeline = _pipeline(settings)
    passages = pipeline.search(pipeline.analyse(args.query), args.k)
    if args.json:
        print(json.dumps([p.to_json() for p in passages], ensure_ascii=False, indent=2))
        return 0
    for p in passages:
        print(f"[{p.n}] {p.section}  (score {p.score:.4f}; {', '.join(p.retrievers)})")
        print(_indent(p.text))
        print()
    return 0


def cmd_ask(args, settings: Settings) -> int:
    pipeline = _pipeline(settings)
    if args.batch:
        return _ask_batch(pipeline, args)
    if not args.question:
        raise RagError("Give a question, or --batch FILE.jsonl.")
    if args.json:
        print(json.dumps(pipeline.ask(args.question, args.k).to_json(), ensure_ascii=False))
        return 0
    _print_answer(pipeline.ask_stream(args.question, args.k))
    return 0


def _ask_batch(pipeline, args) -> int:
    """One JSON answer a line, in order; a line that cannot be answered gets an "error" field."""
    try:
        lines = args.batch.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"Cannot read {args.batch}: {getattr(exc, 'strerror', None) or exc}.") from None
    asked = failed = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        asked += 1
        item: dict = {}
        try:
            item = _batch_item(line, number)
            out = pipeline.ask(item["question"], item.get("k", args.k), item.get("history")).to_json()
        except RagError as exc:
            failed += 1
            message = str(exc) if str(exc).startswith("line ") else f"line {number}: {exc}"
            out = {"question": item.get("question") if isinstance(item.get("question"), str) else None,
                   "answer": "", "refused": True, "citations": [], "passages": [], "error": message}
        if not args.json:
            print(out["answer"] or out.get("error"))
            continue
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if asked and failed == asked else 0  # every line failed: a script should notice


def _batch_item(line: str, number: int) -> dict:
    """One batch line (a question file's line: "question", and "history" for a follow-up, "k" if it wants
    other than -k), or a QuestionError naming the line."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError:
        raise QuestionError(f"line {number} is not valid JSON.") from None
    if not isinstance(item, dict) or "question" not in item:
        raise QuestionError(f"line {number} has no \"question\" field.")
    return item


def cmd_eval(args, settings: Settings) -> int:
    from rag.evaluation import evaluate  # deferred: see the module docstring

    if args.suite:
        return _eval_suite(args, settings)
    if args.followups:
        raise RagError("--followups asks a suite's follow-ups: give it with --suite. A --questions file "
                       "asks its follow-ups by itself (a question with \"history\").")
    questions = evaluate.load_questions(args.questions)
    if args.answers:
        writable(args.answers, folder=False)  # told before the run; an earlier file is kept until the end
    pipeline = _pipeline(settings)
    modes = ["hybrid", "bm25", "dense"] if args.baselines else ["hybrid"]
    results = {mode: evaluate.run(pipeline, questions, args.k, retrieval=mode) for mode in modes}
    if args.answers:
        written = args.answers.with_name(args.answers.name + ".writing")
        with open(written, "w", encoding="utf-8") as f:
            for answer in results["hybrid"][0]:
                f.write(json.dumps(answer, ensure_ascii=False) + "\n")
        written.replace(args.answers)
    result = evaluate.report(questions, results)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else evaluate.format_table(result))
    return 0


def writable(path: Path, folder: bool) -> None:
    """--answers: the folder made, or the file's place checked (nothing of an earlier file is lost), or a
    RagError that says why not."""
    try:
        if folder:
            path.mkdir(parents=True, exist_ok=True)
        elif path.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        else:
            probe = path.with_name(path.name + ".writing")
            with open(probe, "w", encoding="utf-8"):
                pass
            probe.unlink()
    except OSError as exc:
        kind = "folder" if folder else "file"
        raise RagError(f"Cannot write the answers {kind} {path}: {exc.strerror or exc}.") from None


def _eval_suite(args, settings: Settings) -> int:
    from rag.embedding.embedders import create_embedder  # deferred: see the module docstring
    from rag.evaluation import evaluate  # deferred: see the module docstring
    from rag.service import RagService  # deferred: see the module docstring

    folders = evaluate.TEST if args.suite == TEST_DOCUMENTS else (args.suite,)
    asked = evaluate.QuestionSet.FOLLOWUPS if args.followups else evaluate.QuestionSet.QUESTIONS
    docs = [doc for folder in folders for doc in evaluate.discover(folder, DEFAULT_SOURCE, asked)]
    if args.answers:
        writable(args.answers, folder=True)  # told before the run
    embedder = create_embedder(settings.embedder)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        work = args.work or Path(tmp)
        for doc in docs:
            print(f"{doc.name}: building its index and asking {doc.questions.name}", file=sys.stderr)
            questions = evaluate.load_questions(doc.questions)
            # Each document served as `rag ask` would serve it, from its own index (built, or updated
            # incrementally: a rerun embeds nothing), by the extractive answerer the figures are about.
            own = dataclasses.replace(settings, source_or_none=doc.article, index_dir=work / doc.name,
                                      workspace=work / "workspace", answerer="extractive")
            pipeline = RagService.start(own, embedder, answerers={}).pipeline
            answers, latencies = evaluate.run(pipeline, questions, args.k)
            rows[doc.name] = evaluate.score(questions, answers)
            rows[doc.name]["latency"] = evaluate.latency_summary(latencies)
            if args.answers:
                with open(args.answers / f"{doc.name}.jsonl", "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(a, ensure_ascii=False) + "\n" for a in answers)
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else evaluate.format_suite(rows))
    return 0


def cmd_chat(args, settings: Settings) -> int:
    if sys.stdin.isatty():
        import readline  # noqa: F401 - input() then edits the line and recalls earlier questions (arrow keys)
    pipeline = _pipeline(settings)
    print(f"Ask about {pipeline.index.manifest.get('title') or 'the document'}. Empty line or Ctrl-D to quit.")
    history: list[str] = []
    while True:
        try:
            question = input("\n? ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            _print_answer(pipeline.ask_stream(question, args.k, history=history))
        except RagError as exc:
            print(f"  {exc}")
            continue
        history.append(question)


# ---------------------------------------------------------------- helpers

def _pipeline(settings: Settings):
    """Load the index, warning on stderr (not failing) when it no longer matches the source."""
    from rag.service import RagService  # deferred: see the module docstring

    began = time.perf_counter()
    service = RagService.start(settings, build_if_needed=False)
    status = service.status()
    if not status.fresh:
        print(f"warning: the index is {status.summary()}; run `{settings.hint()}` to update it.", file=sys.stderr)
    pipeline = service.pipeline
    pipeline.warm()
    local = pipeline.answerers.get("local")
    if local is not None and settings.answerer == "local":
        print(f"Loading the local model {local.model_ref} (about a minute on a 2-core CPU)...", file=sys.stderr)
        local.load()
    if os.environ.get("RAG_VERBOSE"):
        print(f"loaded in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return pipeline


def _print_answer(stream) -> None:
    from rag.types import Answer  # deferred: see the module docstring

    print()
    for piece in stream:
        if isinstance(piece, Answer):
            answer = piece
        else:
            print(piece, end="", flush=True)
    print("\n")
    if answer.answerer == "extractive-fallback":
        print(f"({answer.notice})\n\n{answer.answer}\n")
    elif answer.notice:
        print(f"({answer.notice})\n")
    label = "Closest passages" if answer.refused else "Passages"
    print(f"{label}:")
    for p in answer.passages:
        mark = "*" if p.n in answer.citations else " "
        print(f"{mark}[{p.n}] {p.section}")
        print(_indent(p.text))


def _indent(text: str, width: int = 100) -> str:
    return textwrap.fill(text, width=width, initial_indent="    ", subsequent_indent="    ")


if __name__ == "__main__":
    sys.exit(main())
