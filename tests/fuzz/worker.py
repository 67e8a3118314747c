"""Run fuzz cases in-process, in forked workers that bound each command's time and memory.

A worker calls `cnncalc.cli.main()` with the case's argv and captured stdout/stderr, as `python -m cnncalc` would
run, and reports an Outcome: the exit code, or what went wrong. What counts as wrong:

- traceback: an exception other than SystemExit escaped `main()` (or a traceback was printed);
- exit-code: an exit code other than 0, 1 or 2;
- timeout: the command ran longer than the time limit (an alarm in the worker; a watchdog kills it if the alarm
  cannot interrupt, as in one huge integer operation);
- memory: MemoryError under the address-space limit (RLIMIT_AS, counted above the worker's size at start);
- crash: the worker died (a signal, or the watchdog);
- json: `--format json` printed something that is not strict JSON (NaN, Infinity, or anything else);
- silent: exit code 2 with nothing on standard error.

Workers are forked once and reused (fast); a worker that timed out, ran out of memory or died is replaced.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import multiprocessing
import os
import re
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .mutate import Case

PACKAGE = Path(__import__("cnncalc").__file__).resolve().parent
OUTPUT_CAP = 8 * 1024 * 1024  # characters of stdout kept (for the JSON check); the rest is counted only
GRACE = 5.0  # seconds past the time limit before the parent ends a worker that has not answered


RETIRING = ("timeout", "memory")  # outcomes after which a worker is replaced


@dataclass
class Outcome:
    index: int
    kind: str  # "ok" or one of the failure kinds above
    code: int | None
    seconds: float
    signature: str = ""  # kind, exception and the innermost cnncalc frame: groups failures by cause
    message: str = ""  # the exception's message, or what else is wrong
    detail: str = ""  # the traceback, or the end of standard error

    @property
    def failed(self) -> bool:
        return self.kind != "ok"


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in cnncalc swallows it."""


class CappedText(io.StringIO):
    """stdout/stderr for one command: keeps the first OUTPUT_CAP characters, counts the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.length = 0

    def write(self, text: str) -> int:
        if self.length < OUTPUT_CAP:
            super().write(text[: OUTPUT_CAP - self.length])
        self.length += len(text)
        return len(text)


# -- in the worker -----------------------------------------------------------------------------------------------


def where(frames: list[tuple[str, str]]) -> str:
    """Where it happened, from (file, function) pairs, innermost last: the innermost frame in cnncalc
    (file:function), and the innermost frame at all when that lies outside cnncalc (a library it called)."""
    inside = [(f, n) for f, n in frames if _in_package(f)]
    if not inside:
        return f"{Path(frames[-1][0]).name}:{frames[-1][1]}" if frames else "?"
    file, name = inside[-1]
    text = f"cnncalc/{Path(file).resolve().relative_to(PACKAGE).as_posix()}:{name}"
    if not _in_package(frames[-1][0]):
        text += f" > {Path(frames[-1][0]).name}:{frames[-1][1]}"
    return text


def _in_package(file: str) -> bool:
    return Path(file).resolve().is_relative_to(PACKAGE)


def dumped_frames(log: str) -> list[tuple[str, str]]:
    """The main thread's stack in a faulthandler dump, innermost last (faulthandler writes it innermost first).
    The dump holds every thread; the main one is named by the id the worker wrote at its start (MAIN_THREAD)."""
    main = re.search(r"^main thread (0x[0-9a-f]+)$", log, re.M)
    blocks = re.split(r"^(?:Current thread|Thread) (0x[0-9a-f]+) \(most recent call first\):$", log, flags=re.M)
    stacks = dict(zip(blocks[1::2], blocks[2::2], strict=True))
    stack = stacks.get(main.group(1), "") if main else next(iter(stacks.values()), "")
    return list(reversed(re.findall(r'File "([^"]+)", line \d+ in (\S+)', stack)))


def _on_alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_memory(megabytes: int) -> None:
    """Bound the address space to the worker's size now plus `megabytes` (the parent may hold a large torch)."""
    limit = _address_space() + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class MemoryWatch(threading.Thread):
    """Notes the main thread's stack when the address space passes 3/4 of the limit: where the memory went, even
    when the MemoryError's own traceback is cut short (unwinding needs memory too)."""

    def __init__(self, megabytes: int) -> None:
        super().__init__(daemon=True)
        self.threshold = _address_space() + megabytes * 1024 * 1024 * 3 // 4
        self.main_id = threading.get_ident()
        self.stack: list[tuple[str, str]] | None = None
        self.armed = False

    def arm(self) -> None:
        self.stack = None
        self.armed = True

    def run(self) -> None:
        while True:
            time.sleep(0.02)
            if self.armed and self.stack is None and _address_space() > self.threshold:
                frame = sys._current_frames().get(self.main_id)
                if frame is not None:
                    self.stack = [(f.filename, f.name) for f in traceback.extract_stack(frame)]
                del frame


_CRASHLOG: Any = None  # the worker's faulthandler file: the stack of a crash or of the watchdog lands here
_WATCH: MemoryWatch | None = None


def run_case(case: Case, directory: str, timeout: float, main: Callable[[], None]) -> Outcome:
    for name, text in case.files.items():
        Path(directory, name).write_text(text, encoding="utf-8", errors="surrogatepass")
    out, err = CappedText(), CappedText()
    saved = sys.stdout, sys.stderr, sys.stdin, sys.argv, dict(os.environ)
    sys.stdout, sys.stderr, sys.argv = out, err, ["cnncalc", *case.resolved_argv(directory)]
    sys.stdin = io.StringIO(case.stdin or "")
    os.environ.pop("COLUMNS", None)
    os.environ.update({"NO_COLOR": "1", **case.env})
    code: Any = None
    failure: tuple[str, BaseException] | None = None
    start = time.perf_counter()
    if _WATCH is not None:
        _WATCH.arm()
    # At the deadline the watchdog thread writes the stack (even while one long C call holds the interpreter, when
    # the alarm's handler cannot run yet); the alarm then ends the command, or the parent ends the worker.
    faulthandler.dump_traceback_later(timeout, exit=False, file=_CRASHLOG or sys.__stderr__)
    signal.setitimer(signal.ITIMER_REAL, timeout + 0.2)
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    except CaseTimeout as error:
        failure = ("timeout", error)
    except MemoryError as error:
        failure = ("memory", error)
    except BaseException as error:  # anything else escaping main() is what the fuzzer looks for
        failure = ("traceback", error)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        if _WATCH is not None:
            _WATCH.armed = False
        seconds = time.perf_counter() - start
        sys.stdout, sys.stderr, sys.stdin, sys.argv = saved[:4]
        os.environ.clear()
        os.environ.update(saved[4])
    if failure is not None:
        kind, error = failure
        if kind == "timeout":
            log = crash_log()
            frames = dumped_frames(log)
            return Outcome(case.index, kind, None, seconds, f"timeout at {where(frames)}", "no answer", log[-4000:])
        frames = [(f.filename, f.name) for f in traceback.extract_tb(error.__traceback__)]
        detail = "".join(traceback.format_exception(error))
        if kind == "memory" and _WATCH is not None and _WATCH.stack:
            frames = _WATCH.stack
            detail = "where the memory went (at 3/4 of the limit):\n" + "\n".join(f"  {f}: {n}" for f, n in frames)
        signature = f"{kind} {type(error).__name__} at {where(frames)}"
        return Outcome(case.index, kind, None, seconds, signature, str(error)[:2000], detail)
    return check_exit(case, code, out, err, seconds)


def check_exit(case: Case, code: Any, out: CappedText, err: CappedText, seconds: float) -> Outcome:
    if code is None:
        code = 0
    stderr = err.getvalue()
    tail = stderr[-3000:]
    if not isinstance(code, int):  # sys.exit("text") prints the text and exits 1
        return Outcome(case.index, "exit-code", 1, seconds, f"exit-code {code!r:.40}", str(code)[:2000], tail)
    if "Traceback (most recent call last)" in stderr:
        return Outcome(case.index, "traceback", code, seconds, "traceback printed", stderr[-2000:], tail)
    if code not in (0, 1, 2):
        return Outcome(case.index, "exit-code", code, seconds, f"exit-code {code}", f"exit code {code}", tail)
    if code == 2 and not stderr.strip() and not out.getvalue().strip():
        return Outcome(case.index, "silent", code, seconds, f"silent exit 2 in {case.command}", "no message", tail)
    if code in (0, 1) and _prints_json(case.argv) and out.length <= OUTPUT_CAP:
        problem = _json_problem(out.getvalue())
        if problem:
            return Outcome(case.index, "json", code, seconds, f"json {case.command}: {problem}", problem, tail)
    return Outcome(case.index, "ok", code, seconds, message=stderr.strip().partition("\n")[0][:300])


def _prints_json(argv: list[str]) -> bool:
    pairs = list(zip(argv, argv[1:], strict=False))
    to_file = any(flag in ("--output", "-o") and value != "-" for flag, value in pairs) and argv[0] != "fuse"
    fenced = "--markdown" in argv  # graph --markdown wraps the JSON in a fenced block, on purpose
    return not to_file and not fenced and any(flag in ("--format", "-f") and value == "json" for flag, value in pairs)


def _json_problem(text: str) -> str:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        json.loads(text, parse_constant=refuse)
    except ValueError as error:
        return re.sub(r"line \d+ column \d+ \(char \d+\)", "", str(error)).strip()
    return ""


def crash_log() -> str:
    """What the watchdog wrote (it writes at the deadline, a moment before the alarm; wait a little for it)."""
    if _CRASHLOG is None:
        return ""
    text = ""
    for _ in range(50):
        text = Path(_CRASHLOG.name).read_text(errors="replace")
        if "most recent call first" in text:
            break
        time.sleep(0.02)
    return text


def worker_main(conn: Connection, directory: str, timeout: float, megabytes: int, main: Callable[[], None]) -> None:
    global _CRASHLOG, _WATCH
    _WATCH = MemoryWatch(megabytes)
    _WATCH.start()
    _limit_memory(megabytes)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    crashlog = _CRASHLOG = open(Path(directory, "faulthandler.log"), "w")  # noqa: SIM115 - the worker's life long
    faulthandler.enable(file=crashlog)
    while True:
        case = conn.recv()
        if case is None:
            return
        crashlog.seek(0)
        crashlog.truncate()
        crashlog.write(f"main thread 0x{threading.get_ident():016x}\n")
        crashlog.flush()
        outcome = run_case(case, directory, timeout, main)
        conn.send(outcome)
        if outcome.kind in RETIRING:
            return  # its state may be half-changed; the parent forks a fresh one


# -- in the parent -----------------------------------------------------------------------------------------------


class Worker:
    def __init__(self, number: int, root: str, limits: Limits, main: Callable[[], None]) -> None:
        self.directory = tempfile.mkdtemp(prefix=f"worker{number}-", dir=root)
        self.limits = limits
        self.main = main
        self.process: Any = None
        self.conn: Connection | None = None
        self.case: Case | None = None
        self.deadline = 0.0

    def start(self) -> None:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        self.process = context.Process(
            target=worker_main,
            args=(child, self.directory, self.limits.seconds, self.limits.megabytes, self.main),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent

    def submit(self, case: Case) -> None:
        if self.process is None or not self.process.is_alive():
            self.start()
        assert self.conn is not None
        self.case = case
        self.deadline = time.monotonic() + self.limits.seconds + self.limits.grace
        self.conn.send(case)

    def receive(self) -> Outcome:
        assert self.conn is not None and self.case is not None
        case, self.case = self.case, None
        try:
            outcome: Outcome = self.conn.recv()
        except (EOFError, OSError):
            return self.died(case)
        if outcome.kind in RETIRING:  # the worker ends itself: wait for it, so that the next case gets a new one
            self.process.join(self.limits.grace)
            self.stop()
        return outcome

    def died(self, case: Case) -> Outcome:
        """The worker ended without an answer: a crash, or the watchdog after an alarm that could not interrupt."""
        self.process.join(1)
        self.stop()
        log = Path(self.directory, "faulthandler.log").read_text(errors="replace")
        code = self.process.exitcode
        if "Timeout (" in log:
            kind, message = "timeout", "no answer, and the alarm could not interrupt"
        else:
            kind, message = "crash", f"the worker died (exit code {code})"
        signature = f"{kind} at {where(dumped_frames(log))}"
        return Outcome(case.index, kind, None, self.limits.seconds + self.limits.grace, signature, message, log[-4000:])

    def overdue(self) -> Outcome:
        assert self.case is not None
        case, self.case = self.case, None
        self.process.kill()
        return self.died(case)

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            with contextlib.suppress(OSError):
                assert self.conn is not None
                self.conn.send(None)
            self.process.join(2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0  # per command: about hangs, not speed
    megabytes: int = 2048  # address space per command, above the worker's size at start
    grace: float = GRACE


def cnncalc_main() -> Callable[[], None]:
    """`cnncalc.cli.main`, with every command module imported before forking, so that each worker starts warm."""
    import importlib

    from cnncalc.cli import main
    from cnncalc.layers.registry import REGISTRY

    for command in ("check", "diff", "explain", "fuse", "graph", "layer", "lint", "report", "run", "summary", "verify"):
        importlib.import_module(f"cnncalc.commands.{command}")
    REGISTRY.load_all()  # the layer kinds too (imported on first look-up otherwise)
    return main


def run_cases(
    cases: list[Case], jobs: int, limits: Limits, root: str, main: Callable[[], None] | None = None
) -> list[Outcome]:
    """Run every case on `jobs` workers (main: cnncalc's, or a stand-in for testing the fuzzer); outcomes in the
    order of the cases."""
    main = main or cnncalc_main()
    workers = [Worker(n, root, limits, main) for n in range(max(1, jobs))]
    pending = list(reversed(cases))
    outcomes: dict[int, Outcome] = {}
    try:
        while pending or any(w.case is not None for w in workers):
            for worker in workers:
                if worker.case is None and pending:
                    worker.submit(pending.pop())
            busy = [w for w in workers if w.case is not None]
            soonest = min(w.deadline for w in busy) - time.monotonic()
            ready = wait([w.conn for w in busy if w.conn is not None], timeout=max(0.0, soonest))
            for worker in busy:
                if worker.conn in ready:
                    outcome = worker.receive()
                elif time.monotonic() > worker.deadline:
                    outcome = worker.overdue()
                else:
                    continue
                outcomes[outcome.index] = outcome
    finally:
        for worker in workers:
            worker.stop()
    return [outcomes[case.index] for case in cases]
