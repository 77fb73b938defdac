"""The cycle collector set for batch work: once per process, older generations kept."""

import json
import subprocess
import sys
import weakref


def test_a_process_that_builds_its_resources_tunes_the_collector_once(tmp_path):
    # A fresh interpreter: the test process's own collector stays as pytest set it.
    code = """
import gc, json, sys
from revcycle.collector import YOUNG_THRESHOLD, tune_for_batches
before = gc.get_threshold()
from revcycle.pipeline.resources import get_resources
get_resources()
after, frozen = gc.get_threshold(), gc.get_freeze_count()
tune_for_batches()  # a second call changes nothing
print(json.dumps({"before": before, "after": after, "frozen": frozen,
                  "again": [gc.get_threshold(), gc.get_freeze_count()],
                  "young": YOUNG_THRESHOLD}))
"""
    env = {"REVCYCLE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["before"][0] != seen["young"]
    assert seen["after"] == [seen["young"], *seen["before"][1:]]  # older ratios kept
    assert seen["frozen"] > 10_000  # modules and settings: out of the collector's sight
    assert seen["again"] == [seen["after"], seen["frozen"]]


def test_cycles_are_still_reclaimed_without_asking_after_tuning():
    from revcycle.collector import YOUNG_THRESHOLD, tune_for_batches

    tune_for_batches()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    assert gone() is not None  # a cycle: reference counting alone never frees it
    kept = [[] for _ in range(3 * YOUNG_THRESHOLD)]  # enough allocations for a pass
    assert gone() is None and len(kept) == 3 * YOUNG_THRESHOLD
