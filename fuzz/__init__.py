"""Coverage-guided fuzzing of the wire decoders, the framer, the sans-IO sessions and the text layer.

Each target (``fuzz.targets.TARGETS``) is a plain function ``check(data: bytes)``
that raises on a bug and returns otherwise, so the committed corpus replays
without atheris (``tests/test_fuzz.py``); ``fuzz/run.py`` hands the same
function to atheris for a campaign.  See ``fuzz/README.md``.
"""
