"""The README's Python example, as benchmarks/readme_example.py reads it (tests/test_docs.py runs it)."""

from __future__ import annotations

from tests.benchmarks._load import load_benchmark

readme = load_benchmark("readme_example")


def test_the_example_stops_its_algorithm_before_restoring_and_trains_to_learn():
    code = readme.readme_example()
    lines = [line.split("#")[0].strip() for line in code.splitlines()]
    restore = next(i for i, line in enumerate(lines) if "Algorithm.from_checkpoint(" in line)
    assert "algo.stop()" in lines[:restore], "the first algorithm must release its CPUs before another is built"
    assert 'range(int(os.environ.get("RLLIB_QMIX_MAX_ITERATIONS", 500)))' in code  # 64k env steps unless capped
    for printed in readme._PRINTED.values():
        assert f'print("{printed}"' in code
