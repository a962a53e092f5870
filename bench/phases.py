"""Where a job's time goes: cProfile statistics of an in-process run, cut into the phases
of issue 29 (read, map call, encode, partition, sort, spill, merge, fetch, decode,
reduce call, output write, ...).

Every profiled function's own time (``tottime``; with ``builtins=False`` a C call's time
is its Python caller's) goes to exactly one phase, or is shared among several, so the
phases add up to the profile's total:

* a function a rule below names (by module and function name) is that phase's: its own
  time is the phase's, whatever called it;
* any other function (a helper, pyarrow's Python code, an import) takes its callers'
  phases, in proportion to the time spent in it from each caller (gprof's assumption);
  a function nobody profiled called is "other";
* a function of the job's own files (``user_files``) takes its callers' phases too,
  renamed: called from the engine's map loop it is "map call", from its reduce loop
  "reduce call", from a combine "combine"; from the sampling done while planning, "plan".

The rules name zmr functions as they are today; a function renamed or added later is
simply attributed through its callers (or "other"), never an error. ``explain`` lists the
biggest functions and where their time went, to check the rules against a new engine.
"""

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

PHASES = ("read", "map call", "collect", "encode", "partition", "sort", "spill", "merge",
          "fetch", "decode", "combine", "reduce call", "output write", "plan", "other")
#: What each phase holds, for the tables' legend.
LEGEND = {
    "read": "input splits read and parsed into records (splits, fixed, input_formats, "
            "claims)",
    "map call": "the job's mapper (and mapper_init) and what it calls",
    "collect": "the engine's map loop: records to the mapper, its pairs into the buffer",
    "encode": "keys and values made columns: typed columns, memcomparable key encoding, "
              "secondary-sort composites",
    "partition": "partition numbers (hash or total-order cut points, user partitioner)",
    "sort": "sorting the buffer by (partition, key) and gathering rows in that order",
    "spill": "writing sorted runs and the map output (Arrow IPC, PartitionedWriter)",
    "merge": "k-way merges of sorted runs (map side) and of map outputs (reduce side)",
    "fetch": "reading map-output segments and spilled runs back (shuffle fetch, IPC read)",
    "decode": "keys and values back to Python objects, grouping equal keys",
    "combine": "combiners (the job's and the engine's loop around them), built-in "
               "aggregations",
    "reduce call": "the job's reducer and the loop that calls it (an identity reduce: "
                   "the loop passing records through)",
    "output write": "part files written (text/fixed/CSV/JSON/Parquet writers, commit)",
    "plan": "planning: listing and cutting inputs, total-order sampling, output checks",
    "other": "anything else (start-up, the runner, functions no phase reached)",
}

_ALL = r".*"
#: (module, function name pattern, phase); module is the path below zmr/ without .py
#: ("storage/codec"); the first match wins. Function names are code names (a method's
#: name without its class).
RULES: tuple[tuple[str, str, str], ...] = (
    ("storage/splits", r"plan_splits|_file_pieces|_is_compressed", "plan"),
    ("storage/discovery", r"check_unchanged", "read"),
    ("storage/splits", _ALL, "read"),
    ("storage/fixed", r"fixed_pieces", "plan"),
    ("storage/fixed", _ALL, "read"),
    ("storage/input_formats", r"table_splits|_row_group_sizes|_batch_sizes", "plan"),
    ("storage/input_formats", _ALL, "read"),
    ("storage/pairfile", r"iter_pair_batches", "read"),
    ("storage/pairfile", _ALL, "output write"),
    ("tasks/claims", _ALL, "read"),
    ("tasks/map_task", r"input_records|checked_pieces|_piece_records|_record_batches|"
                       r"line_batches|line_batch|at|__init__", "read"),
    ("tasks/map_task", r"_feed_mapper|_feed_batch_mapper|__call__|key_value_columns|"
                       r"_as_array", "collect"),
    ("tasks/map_task", r"_run_map_only|feed|add|maybe_spill|flush|_write_pairs",
     "output write"),
    ("tasks/collector", r"feed|add|maybe_spill|add_arrays|_stop_grouping|"
                        r"_estimate_pair_bytes|_owned_size", "collect"),
    ("tasks/collector", r"_take_buffer|_ordered|_numeric_values", "encode"),
    ("tasks/collector", r"_combined|_write_combined|_write_groups|_write_aggregated",
     "combine"),
    ("tasks/collector", r"finish|_merge_into", "merge"),
    ("tasks/collector", r"spill|_spill_groups|_new_run|_close_run", "spill"),
    ("tasks/grouping", r"take|as_pairs", "spill"),
    ("tasks/grouping", _ALL, "collect"),
    ("tasks/accel", _ALL, "collect"),
    ("job/runtime", r"__call__|_skip", "collect"),
    ("job/runtime", r"iter_groups|batch_runs|key_runs", "decode"),
    ("storage/codec", r"decode.*|_decode.*|_unescape.*|element_end|first_element", "decode"),
    ("storage/codec", _ALL, "encode"),
    ("storage/sorting", r"key_column|encode", "encode"),
    ("storage/sorting", r"_partitions|checked_partition|_range_starts", "partition"),
    ("storage/sorting", r"merge_sorted|_next_nonempty|_sorted_concat|unify_value_columns|"
                        r"__len__|__getitem__|merge_factor", "merge"),
    ("storage/sorting", _ALL, "sort"),
    ("storage/partition", _ALL, "partition"),
    ("storage/columnar", r"sort_indices|_leading_word|_common_lead", "sort"),
    ("storage/columnar", r"user_keys|_encoded_lengths|_layout|_slices|_int64_bodies|"
                         r"__len__|typed_values|keys|pairs", "decode"),
    ("storage/columnar", _ALL, "encode"),
    ("storage/column_output", _ALL, "output write"),
    ("storage/runs", _ALL, "decode"),
    ("storage/ordering", r"partitions|_leading", "partition"),
    ("storage/ordering", r"sort_keys|_check_composite|key_prefix", "encode"),
    ("storage/ordering", r"groups|_batch_rows|user_key|group_prefix", "decode"),
    ("storage/ipc", r"read_segment|read_streams", "fetch"),
    ("storage/ipc", _ALL, "spill"),
    ("shuffle/fetcher", _ALL, "fetch"),
    ("tasks/reduce_task", r"_open_inputs|local_fetch", "fetch"),
    ("tasks/reduce_task", r"_premerge", "merge"),
    ("tasks/reduce_task", r"_groups|<genexpr>|_count_records|_identity_batches", "decode"),
    ("tasks/reduce_task", r"_reduced_pairs", "reduce call"),
    ("tasks/combining", _ALL, "combine"),
    ("job/aggregations", _ALL, "combine"),
    ("storage/formats", _ALL, "output write"),
    ("storage/commit", _ALL, "output write"),
    ("tasks/sampling", _ALL, "plan"),
    ("job/planning", _ALL, "plan"),
    ("job/loader", _ALL, "plan"),
    ("storage/packing", _ALL, "plan"),
    ("storage/discovery", _ALL, "plan"),
    ("storage/output_safety", _ALL, "plan"),
    ("core/coalescing", _ALL, "plan"),
)
#: How a job function's callers' phase names its own time.
USER_ROLES = {"collect": "map call", "read": "map call", "reduce call": "reduce call"}

Func = tuple[str, int, str]          # cProfile's (file, line, name)
_ZMR_PATH = re.compile(r".*[/\\]zmr[/\\](.+)\.py$")     # the last zmr/ folder of the path


@dataclass
class Attribution:
    """Seconds per phase, and per function where its own time went."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    functions: dict[Func, dict[str, float]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def rule_phase(func: Func) -> str | None:
    """The phase a rule gives ``func``, or None (then its callers decide)."""
    found = _ZMR_PATH.search(func[0].replace("\\", "/"))
    if found is None:
        return None
    module, name = found.group(1), func[2]
    for rule_module, pattern, phase in RULES:
        # a comprehension or lambda runs for the function that made it: only a rule
        # naming it explicitly decides (a generator expression's caller is its consumer)
        if module == rule_module and (pattern != _ALL or not name.startswith("<")) \
                and re.fullmatch(pattern, name):
            return phase
    return None


class _Attributor:
    def __init__(self, stats: dict[Func, Any], user_files: set[str]) -> None:
        self.stats = stats
        self.user_files = {os.path.realpath(f) for f in user_files}
        self.memo: dict[Func, dict[str, float]] = {}
        self.open: set[Func] = set()

    def shares(self, func: Func) -> dict[str, float] | None:
        """Phase -> share (summing to 1) of ``func``'s time; None inside a call cycle."""
        if func in self.memo:
            return self.memo[func]
        phase = rule_phase(func)
        if phase is not None:
            self.memo[func] = {phase: 1.0}
            return self.memo[func]
        if func in self.open:
            return None
        self.open.add(func)
        try:
            mixed = self._from_callers(func)
        finally:
            self.open.discard(func)
        if self._is_user(func):
            renamed: dict[str, float] = defaultdict(float)
            for phase, share in mixed.items():
                renamed[USER_ROLES.get(phase, phase)] += share
            mixed = dict(renamed)
        self.memo[func] = mixed
        return mixed

    def _from_callers(self, func: Func) -> dict[str, float]:
        callers = self.stats.get(func, (0, 0, 0.0, 0.0, {}))[4]
        weighted: dict[str, float] = defaultdict(float)
        for caller, edge in callers.items():
            parent = self.shares(caller)
            if parent is None:
                continue
            # time in func under this caller; call counts if the clock saw none
            weight = edge[3] if edge[3] > 0 else edge[1] * 1e-9
            for phase, share in parent.items():
                weighted[phase] += weight * share
        total = sum(weighted.values())
        if total <= 0:
            return {"other": 1.0}
        return {phase: w / total for phase, w in weighted.items()}

    def _is_user(self, func: Func) -> bool:
        return func[0] not in ("~", "") and os.path.realpath(func[0]) in self.user_files


def attribute(stats: dict[Func, Any], user_files: set[str]) -> Attribution:
    """Cut a ``pstats.Stats(...).stats`` dict into phases."""
    attributor = _Attributor(stats, user_files)
    result = Attribution()
    for func, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        shares = attributor.shares(func) or {"other": 1.0}
        result.functions[func] = {p: s * tottime for p, s in shares.items()}
        for phase, share in shares.items():
            result.seconds[phase] += share * tottime
    return result


def table(attribution: Attribution) -> list[str]:
    """Markdown rows: phase, seconds, % of the total (phases with no time left out)."""
    total = attribution.total or 1.0
    rows = ["| phase | s | % |", "|---|---:|---:|"]
    for phase in PHASES:
        seconds = attribution.seconds.get(phase, 0.0)
        if seconds >= 0.0005:
            rows.append(f"| {phase} | {seconds:.2f} | {100 * seconds / total:.1f} |")
    rows.append(f"| **total** | **{attribution.total:.2f}** | 100 |")
    return rows


def explain(attribution: Attribution, top: int) -> list[str]:
    """The ``top`` functions by own time, and the phases it went to."""
    ranked = sorted(attribution.functions.items(), key=lambda item: -sum(item[1].values()))
    lines = []
    for (path, line, name), phases in ranked[:top]:
        where = _ZMR_PATH.search(path.replace("\\", "/"))
        short = f"zmr/{where.group(1)}.py" if where else os.path.basename(path) or path
        split = ", ".join(f"{p} {s:.2f}" for p, s in sorted(phases.items(), key=lambda x: -x[1])
                          if s >= 0.005)
        lines.append(f"  {sum(phases.values()):7.2f} s  {short}:{line} {name}  -> {split}")
    return lines
