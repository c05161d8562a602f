"""Run one fuzz target under atheris (libFuzzer): ``python -m fuzz.run TARGET [libFuzzer flags] [CORPUS ...]``.

``python -m fuzz.run --list`` names the targets; ``module:function`` runs any other
function taking the input bytes (the tests plant a bug that way).  Everything after the target
goes to libFuzzer as it is: ``-max_total_time=N``, ``-runs=N``, ``-merge=1``,
``-artifact_prefix=DIR/``, corpus directories (new inputs are written to the
first one).  smsgw is instrumented as it is imported here, and so are the
decoders the codec engine generates from the protocol tables at run time
(they are not in any file the import hook sees).
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
import shlex
import sys
import types
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import atheris  # noqa: E402


def _instrument_generated(protocols: tuple[str, ...]) -> int:
    """Instrument the generated decoders/encoders (``<smsgw.codec ...>`` code objects) of the codecs
    built so far: those of ``protocols``, and any the harness modules built when imported."""
    from fuzz.codec_targets import codec_of

    for name in protocols:
        codec_of(name)
    generated = [f for f in gc.get_objects()
                 if isinstance(f, types.FunctionType) and f.__code__.co_filename.startswith("<smsgw.codec")]
    for function in generated:
        atheris.instrument_func(function)
    return len(generated)


def _check_of(spec: str, targets: dict[str, Any]) -> tuple[Callable[[bytes], None], tuple[str, ...]]:
    if ":" in spec:
        module, _, function = spec.partition(":")
        return getattr(importlib.import_module(module), function), ()
    if spec not in targets:
        sys.exit(f"unknown target {spec!r}; known: {', '.join(targets)}")
    return targets[spec].check, targets[spec].protocols


#: the layers under fuzz, instrumented for coverage (the link layer the harnesses call into is
#: run but not instrumented: it pulls in Twisted and would double the start-up time)
INSTRUMENTED = ("smsgw.codec", "smsgw.domain", "smsgw.protocols", "smsgw.routing", "smsgw.session")


def _instrument_layers() -> None:
    with atheris.instrument_imports(include=list(INSTRUMENTED)):
        for name in INSTRUMENTED:
            package = importlib.import_module(name)
            for module in pkgutil.walk_packages(package.__path__, name + "."):
                importlib.import_module(module.name)


def main(argv: list[str]) -> None:
    _instrument_layers()
    from fuzz.targets import TARGETS
    if len(argv) < 2 or argv[1] in ("-h", "--help", "--list"):
        width = max(map(len, TARGETS))
        print(__doc__.strip().splitlines()[0])
        for target in TARGETS.values():
            print(f"  {target.name:<{width}}  {target.what}")
        return
    check, protocols = _check_of(argv[1], TARGETS)
    count = _instrument_generated(protocols)
    print(f"INFO: fuzz target {argv[1]}; {count} generated codec functions instrumented", file=sys.stderr)
    # libFuzzer runs argv[0] through the shell for -merge, -jobs and -fork: make it the whole command
    command = " ".join(shlex.quote(part) for part in (sys.executable, str(Path(__file__).resolve()), argv[1]))
    atheris.Setup([command, *argv[2:]], check)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
