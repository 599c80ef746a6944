#!/usr/bin/env python
"""Time ember against PyTorch and hand-written numpy, side by side in one process.

    python bench/bench.py --impl torch,numpy[,ember] [--quick] [--json out.json]
                          [--markdown out.md] [--only mlp_step_b64,matmul_1024]

Implementations: ``torch`` (PyTorch eager, ``--threads`` intra-op threads),
``numpy`` (the hand-written floor in numpy_ref.py) and ``ember`` (the very
same code as torch, run against ``import ember``; skipped with a note if ember
cannot be imported). Workloads are listed in workloads.py (``--list``).

Peers: ``tinygrad``, ``tinygrad_jit`` (peer_tinygrad.py) and ``chainer``
(peer_chainer.py), each the workloads written in that framework's own API.
They live in venvs of their own, each with torch too, so a peer is measured
by running this script under that venv's python with torch beside it
(``--impl torch,numpy,chainer``): its ratios are paired against torch in the
same run, like ember's. PEERS.md has the commands and results.

Method, per workload:
  1. numerics: every implementation starts from the same weights and inputs
     and runs 3 steps; losses and the last step's gradients must match the
     reference (torch if selected, else numpy) within float32 tolerance;
  2. warm up each implementation, then pick how many calls make one
     measurement batch of about --batch-seconds;
  3. interleave: each round times one batch of every implementation, in
     alternating order (A B, B A, ...), so drift on this shared machine hits
     all of them alike; report the median over rounds;
  4. ratios are medians of the per-round time ratios of the two
     implementations, i.e. paired measurements taken seconds apart.
All ratios compare *time* (> 1 means the first implementation is slower),
also on the GFLOP/s row. ``bg load`` is the CPU time other processes used
while the workload ran, in cores: readings taken when it is high are suspect.
"""
import argparse
import dataclasses
import datetime
import gc
import importlib
import json
import os
import platform
import re
import statistics
import sys
import time
import numpy as np

import workloads as W

CORE_IMPLS = ("torch", "numpy", "ember")
PEERS = {"tinygrad": "peer_tinygrad", "tinygrad_jit": "peer_tinygrad",  # impl -> module
         "chainer": "peer_chainer"}
IMPLS = CORE_IMPLS + tuple(PEERS)
REFERENCE_ORDER = IMPLS  # the first one present is the reference for numerics checks
CORE_RATIOS = (("ember", "torch"), ("ember", "numpy"), ("numpy", "torch"))
PEER_RATIOS = (("tinygrad", "torch"), ("tinygrad_jit", "torch"), ("chainer", "torch"),
               ("chainer", "numpy"))
RATIOS = CORE_RATIOS + PEER_RATIOS
EMBER_ROOT = os.environ.get("EMBER_ROOT", "")

# Pause before switching implementations. Idle BLAS/OpenMP worker threads keep
# spinning for a while after their last job (OpenBLAS: 2**28 TSC cycles, about
# 0.1 s here), stealing the second core from whatever runs next: measured, it
# made torch's matmul ~50% slower right after a numpy batch.
SETTLE_S = 0.15

CHECK_STEPS = 3
LOSS_RTOL = 1e-4
GRAD_RTOL = 1e-3
# A parameter whose gradient norm is below GRAD_FLOOR x the largest one is
# compared against that floor instead of its own norm: some gradients are
# exactly zero in theory (e.g. the attention key bias) and pure rounding
# noise in practice.
GRAD_FLOOR = 1e-3

ENV_VARS = re.compile(r"^(OPENBLAS|GOTO|OMP|GOMP|KMP|MKL|BLIS|NVPL|DNNL|ONEDNN|"
                      r"NUMEXPR|VECLIB|TORCH|ATEN|EMBER)")


@dataclasses.dataclass(frozen=True)
class Mode:
    rounds: int        # measurement batches per implementation (median over these)
    batch_s: float     # target duration of one batch
    warmup_s: float    # warm-up per implementation and workload


MODES = {
    "full": Mode(rounds=15, batch_s=0.4, warmup_s=0.5),
    "quick": Mode(rounds=7, batch_s=0.12, warmup_s=0.1),
}
LONG_ROUNDS = 3  # rounds of a workload whose one call lasts seconds (an epoch); a workload may ask for
                 # more (``import``: a process start is short, and its spread needs more samples)


# --------------------------------------------------------------------------
# Loading implementations


def load_impls(names, threads, ember_root, ember_threads="same"):
    """Import the requested frameworks: ({impl: Backend or None}, {impl: why skipped}). ember's threads
    are pinned to ``threads`` unless ``ember_threads == "policy"`` (ember's own default policy)."""
    set_blas_threads(threads)
    impls, skipped = {}, {}
    for name in names:
        try:
            if name == "numpy":
                impls[name] = None
            elif name == "torch":
                import torch
                torch.set_num_threads(threads)
                impls[name] = W.Backend(torch)
            elif name == "ember":
                ember = import_ember(ember_root)
                if ember_threads == "same" and hasattr(ember, "set_num_threads"):
                    ember.set_num_threads(threads)  # same pool size as torch's, policy off
                impls[name] = W.Backend(ember)
            elif name in PEERS:
                impls[name] = importlib.import_module(PEERS[name]).load(name, threads)
        except ImportError as e:
            skipped[name] = f"cannot import {name}: {type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001 - e.g. a peer whose device cannot start
            skipped[name] = f"cannot start {name}: {type(e).__name__}: {e}"
    return impls, skipped


_blas_limits = None  # keeps the threadpoolctl limit object alive


def set_blas_threads(threads):
    """Give numpy's BLAS (hence ember's) as many threads as torch gets."""
    global _blas_limits
    try:
        import threadpoolctl
    except ImportError:
        print("note: threadpoolctl is not installed; numpy's BLAS keeps its default threads")
        return
    _blas_limits = threadpoolctl.threadpool_limits(limits=threads, user_api="blas")


def import_ember(root):
    """``import ember``; if it is not installed, try the source tree under root."""
    try:
        return importlib.import_module("ember")
    except ModuleNotFoundError as e:
        if e.name != "ember":
            raise
    for path in (os.path.join(root, "core"), os.path.join(root, "src"), root):
        if os.path.isfile(os.path.join(path, "ember", "__init__.py")):
            sys.path.insert(0, path)
            print(f"note: ember is not installed; importing it from {path} "
                  "(plugins registered through entry points need `pip install -e`)")
            return importlib.import_module("ember")
    raise ModuleNotFoundError(f"No module named 'ember' (not installed, not under {root})",
                              name="ember")


# --------------------------------------------------------------------------
# Numerics check


def check_numerics(wl, impls, data):
    """Run CHECK_STEPS steps per implementation from the same start; compare to the reference."""
    runs, errors = {}, {}
    for name, backend in impls.items():
        try:
            case = wl.build(name, backend, data)
            if case is None:
                continue
            step = case.check_step or case.step
            losses = [W.to_float(step()) for _ in range(CHECK_STEPS)]
            grads = [np.asarray(g) for g in case.grads()] if case.grads else None
            runs[name] = (losses, grads)
        except Exception as e:  # noqa: BLE001 - report, keep benchmarking the rest
            errors[name] = f"{type(e).__name__}: {e}"
    ref = next((n for n in REFERENCE_ORDER if n in runs), None)
    report = {}
    for name in impls:
        if name in errors:
            report[name] = {"ok": False, "error": errors[name]}
        elif name == ref:
            report[name] = {"ok": True, "reference": True, "losses": runs[name][0]}
        elif name in runs:
            report[name] = compare_runs(runs[ref], runs[name], ref)
    return report


def compare_runs(ref_run, run, ref_name):
    (ref_losses, ref_grads), (losses, grads) = ref_run, run
    loss_err = max(abs(a - b) / abs(a) for a, b in zip(ref_losses, losses))
    grad_err = grad_error(ref_grads, grads)
    return {"ok": bool(loss_err <= LOSS_RTOL and grad_err <= GRAD_RTOL), "reference": ref_name,
            "losses": losses, "loss_rel_err": loss_err, "grad_rel_err": grad_err}


def grad_error(ref, other):
    """Largest per-parameter ||g - g_ref|| / max(||g_ref||, floor) (see GRAD_FLOOR)."""
    if ref is None or other is None:
        return 0.0 if ref is other else float("inf")
    if [g.shape for g in ref] != [g.shape for g in other]:
        return float("inf")
    norms = [float(np.linalg.norm(g)) for g in ref]
    floor = GRAD_FLOOR * max(norms) or 1e-30
    return max(float(np.linalg.norm(o.astype(np.float64) - r)) / max(n, floor)
               for r, o, n in zip(ref, other, norms))


# --------------------------------------------------------------------------
# Timing


def time_batch(step, calls):
    """(seconds per call, cores busy) over one batch of calls, starting from a clean heap.

    cores busy: this process's CPU time over the wall time, i.e. how many
    cores the implementation kept busy (threads that spin count too).
    """
    gc.collect()
    cpu0, start = process_cpu_s(), time.perf_counter()
    for _ in range(calls):
        step()
    wall = time.perf_counter() - start
    return wall / calls, (process_cpu_s() - cpu0) / wall


def process_cpu_s():
    """CPU seconds of this process and of the children it waited for (the ``import`` row's processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def calibrate(step, mode):
    """Warm step up; return how many calls fill one batch.

    Sized from the fastest warm-up call, so that a burst of background load
    during warm-up does not leave the whole workload with tiny batches.
    """
    fastest, calls, start = float("inf"), 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < mode.warmup_s:
        t0 = time.perf_counter()
        step()
        fastest = min(fastest, time.perf_counter() - t0)
        calls += 1
    return max(1, round(mode.batch_s / fastest))


class BackgroundLoad:
    """CPU time used by other processes since construction, in cores (Linux only).

    On a 2-core machine one busy neighbour is enough to wreck multi-threaded
    timings (each OpenMP or OpenBLAS barrier then waits for a scheduler
    slice), so every round is checked and disturbed rounds are redone.
    """

    def __init__(self):
        self.start = self._read()

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except OSError:
            return None
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), process_cpu_s()  # children are ours too

    def cores(self):
        end = self._read()
        if self.start is None or end is None:
            return None
        wall, busy, own = (e - s for e, s in zip(end, self.start))
        return max(0.0, (busy - own) / wall) if wall > 0 else None


@dataclasses.dataclass
class QuietPolicy:
    """Which rounds count as disturbed, and how long the run may wait for quiet."""

    max_bg_load: float     # other processes' CPU use (cores) above which a round is redone
    wait_budget_s: float   # seconds this whole run may spend waiting for quiet

    def disturbed(self, bg_load):
        return bg_load is not None and bg_load > self.max_bg_load

    def wait(self, poll_s=0.5):
        """Sleep until other processes are quiet, within what is left of the budget."""
        announced = False
        while self.wait_budget_s > 0:
            load = BackgroundLoad()
            time.sleep(poll_s)
            self.wait_budget_s -= poll_s
            bg = load.cores()
            if not self.disturbed(bg):
                return
            if not announced:
                print(f"  (waiting for quiet: other processes use {bg:.2f} cores)", flush=True)
                announced = True


def time_interleaved(cases, mode, quiet, long=False, long_rounds=LONG_ROUNDS):
    """Time rounds of one batch per implementation, in alternating order.

    A round that other processes disturbed is redone (at most mode.rounds
    times per workload; after that disturbed rounds are kept, and show in
    the bg load column). Returns {impl: calls per batch}, {impl: [seconds
    per call, one per kept round]}, {impl: [cores busy, one per kept round]},
    [bg load of each kept round], rounds redone.
    """
    names = list(cases)
    calls = {}
    if long:  # the smoke run was the warm-up; one call is already seconds
        mode = dataclasses.replace(mode, rounds=min(mode.rounds, long_rounds))
        calls = dict.fromkeys(names, 1)
    for name in names:
        if not long:
            time.sleep(SETTLE_S)
            calls[name] = calibrate(cases[name].step, mode)
    samples = {name: [] for name in names}
    cores = {name: [] for name in names}
    bg_loads, redone, previous = [], 0, names[-1]
    while len(bg_loads) < mode.rounds:
        order = names if len(bg_loads) % 2 == 0 else names[::-1]
        load = BackgroundLoad()
        times = {}
        for name in order:
            if name != previous:
                time.sleep(SETTLE_S)
            times[name] = time_batch(cases[name].step, calls[name])
            previous = name
        bg = load.cores()
        if quiet.disturbed(bg) and redone < mode.rounds:
            redone += 1
            quiet.wait()
            continue
        for name in names:
            samples[name].append(times[name][0])
            cores[name].append(times[name][1])
        bg_loads.append(None if bg is None else round(bg, 3))
    return calls, samples, cores, bg_loads, redone


def smoke_workload(wl, impls, data):
    """--smoke: build every implementation's case and run one step; no timing."""
    result = {"unit": wl.unit, "description": wl.description, "impls": {}, "ratios": {}, "unavailable": {}}
    for name, backend in impls.items():
        try:
            case = wl.build(name, backend, data)
            if case is None:
                result["unavailable"][name] = "n/a"
                continue
            case.step()
            result["impls"][name] = {"value": float("nan"), "iqr_rel": 0.0, "cores_busy": float("nan")}
        except Exception as e:  # noqa: BLE001 - reported, and fails the smoke run
            result["unavailable"][name] = f"error: {type(e).__name__}: {e}"
    return result


def run_workload(wl, impls, data, mode, quiet):
    """Build, time and summarise one workload over all implementations."""
    result = {"unit": wl.unit, "description": wl.description, "impls": {}, "ratios": {},
              "unavailable": {}}
    cases = {}
    for name, backend in impls.items():
        try:
            case = wl.build(name, backend, data)
            if case is None:
                result["unavailable"][name] = "n/a"
                continue
            case.step()  # smoke run: fail here, clearly, rather than mid-timing
            cases[name] = case
        except Exception as e:  # noqa: BLE001 - one impl failing must not stop the rest
            result["unavailable"][name] = f"error: {type(e).__name__}: {e}"
    if not cases:
        return result

    quiet.wait(poll_s=0.25)
    gc.collect()
    gc.freeze()  # long-lived objects (torch's modules, ...) stay out of per-batch gc
    try:
        calls, samples, cores, bg_loads, redone = time_interleaved(cases, mode, quiet, long=wl.long,
                                                                   long_rounds=wl.rounds or LONG_ROUNDS)
    finally:
        gc.unfreeze()

    known = [b for b in bg_loads if b is not None]
    result["bg_load_cores"] = statistics.median(known) if known else None
    result["bg_load_per_round"] = bg_loads
    result["rounds_redone"] = redone
    result["rounds_disturbed_kept"] = sum(quiet.disturbed(b) for b in bg_loads)
    for name, times in samples.items():
        q1, median, q3 = statistics.quantiles(times, n=4, method="inclusive")
        result["impls"][name] = {
            "value": wl.value(median),
            "median_s_per_call": median,
            "iqr_rel": (q3 - q1) / median,
            "calls_per_batch": calls[name],
            "samples_s_per_call": times,
            "cores_busy": statistics.median(cores[name]),
        }
    for a, b in RATIOS:
        if a in samples and b in samples:
            paired = [ta / tb for ta, tb in zip(samples[a], samples[b])]
            result["ratios"][f"{a}/{b}"] = statistics.median(paired)
    return result


# --------------------------------------------------------------------------
# Environment


def environment(impls, initial_environ):
    """What the numbers depend on. initial_environ: os.environ before torch was imported."""
    env = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": cpu_info(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "mem_total_gb": mem_total_gb(),
        "loadavg_at_start": os.getloadavg(),
        "thread_env_vars": {k: v for k, v in sorted(initial_environ.items()) if ENV_VARS.match(k)},
        "numpy": {"version": np.__version__, **numpy_blas()},
    }
    if "torch" in impls:
        env["torch"] = torch_info(impls["torch"].T)
    if "ember" in impls:
        ember = impls["ember"].T
        env["ember"] = {"version": getattr(ember, "__version__", "?"),
                        "file": getattr(ember, "__file__", "?")}
    peers = {name: backend.info for name, backend in impls.items() if name in PEERS}
    if peers:
        env["peers"] = peers
    return env


def cpu_info():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in ("model name", "vendor_id", "cpu family", "model", "stepping") \
                        and key not in info:
                    info[key] = value
                elif key == "flags" and "simd" not in info:
                    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")
                    info["simd"] = [f for f in value.split() if f in wanted]
    except OSError:
        info["model name"] = platform.processor()
    return info


def mem_total_gb():
    try:
        with open("/proc/meminfo") as f:
            return round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def numpy_blas():
    """numpy's BLAS as loaded at run time (threadpoolctl), else as built."""
    try:
        import threadpoolctl
        pools = threadpoolctl.threadpool_info()
        return {"threadpools": [
            {k: (os.path.basename(v) if k == "filepath" else v) for k, v in pool.items()}
            for pool in pools]}
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"blas_build": {k: blas.get(k) for k in ("name", "version", "openblas configuration")}}
    except Exception as e:  # noqa: BLE001 - best effort, old numpy
        return {"blas_build": f"unavailable ({e})"}


def torch_info(torch):
    config = torch.__config__.show()
    libs = [line.strip(" -") for line in config.splitlines()
            if "Math Kernel Library" in line or "MKL-DNN" in line or "oneDNN" in line]
    return {
        "version": torch.__version__,
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn_enabled": torch.backends.mkldnn.is_available(),
        "libraries": libs,
    }


def environment_lines(env):
    cpu = env["cpu"]
    lines = [
        f"date: {env['date']}   python {env['python']}   {env['platform']}",
        f"cpu: {cpu.get('model name')} (vendor {cpu.get('vendor_id')}, family {cpu.get('cpu family')}, "
        f"model {cpu.get('model')}, stepping {cpu.get('stepping')}); simd: {' '.join(cpu.get('simd', []))}",
        f"cores: {env['cpu_count']} ({env['cpus_usable']} usable)   memory: {env['mem_total_gb']} GB   "
        f"loadavg at start: {' '.join(f'{x:.2f}' for x in env['loadavg_at_start'])}",
        f"numpy {env['numpy']['version']}",
    ]
    for pool in env["numpy"].get("threadpools", []):
        lines.append(f"  threadpool: {pool.get('internal_api')} {pool.get('version') or ''} "
                     f"arch={pool.get('architecture', '-')} threads={pool.get('num_threads')} "
                     f"({pool.get('filepath')})")
    if "blas_build" in env["numpy"]:
        lines.append(f"  blas (build config): {env['numpy']['blas_build']}")
    if "torch" in env:
        t = env["torch"]
        lines.append(f"torch {t['version']}: threads={t['num_threads']} "
                     f"interop={t['num_interop_threads']} cpu_capability={t['cpu_capability']} "
                     f"mkldnn={t['mkldnn_enabled']}")
        lines.extend(f"  {lib}" for lib in t["libraries"])
    if "ember" in env:
        lines.append(f"ember {env['ember']['version']} from {env['ember']['file']}")
    for name, info in env.get("peers", {}).items():
        lines.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    lines.append("thread/BLAS env vars: " + (", ".join(f"{k}={v}" for k, v in
                                                      env["thread_env_vars"].items()) or "none"))
    lines.append("OPENBLAS_CORETYPE: " + env["thread_env_vars"].get("OPENBLAS_CORETYPE", "not set"))
    return lines


def warnings_for(env):
    notes = []
    coretype = env["thread_env_vars"].get("OPENBLAS_CORETYPE")
    if coretype:
        notes.append(f"OPENBLAS_CORETYPE={coretype} is set: OpenBLAS uses that core's kernels "
                     "instead of detecting this CPU, which can slow numpy (and ember) down.")
    return notes


# --------------------------------------------------------------------------
# Reporting


def columns(selected):
    """(impls, ratio pairs) that get a column: the core ones always, peers when selected."""
    impls = [i for i in IMPLS if i in CORE_IMPLS or i in selected]
    ratios = [(a, b) for a, b in RATIOS if (a, b) in CORE_RATIOS or {a, b} <= set(selected)]
    return impls, ratios


def header(selected):
    impls, ratios = columns(selected)
    return ["workload", "unit", *impls, *(f"{a}/{b}" for a, b in ratios), "spread", "bg load"]


def fmt_value(v):
    if v >= 100:
        return f"{v:.1f}"
    if v >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def table_rows(results, selected):
    impls, ratios = columns(selected)
    rows = []
    for name, res in results.items():
        row = [name, res["unit"]]
        for impl in impls:
            if impl in res["impls"]:
                row.append(fmt_value(res["impls"][impl]["value"]))
            elif impl not in selected:
                row.append("-")
            elif res["unavailable"].get(impl, "").startswith("error"):
                row.append("error")
            else:
                row.append(res["unavailable"].get(impl, "skipped"))
        for a, b in ratios:
            ratio = res["ratios"].get(f"{a}/{b}")
            row.append(f"{ratio:.2f}x" if ratio is not None else "-")
        spreads = [r["iqr_rel"] for r in res["impls"].values()]
        row.append(f"{100 * max(spreads):.0f}%" if spreads else "-")
        bg = res.get("bg_load_cores")
        row.append(f"{bg:.2f}" if bg is not None else "-")
        rows.append(row)
    return rows


def text_table(head, rows):
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(head), line("-" * w for w in widths), *map(line, rows)])


def markdown_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|"]
    out += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(out)


TABLE_LEGEND = (
    "Values are medians over rounds (ms: time per step; us/op: per op; GFLOP/s: throughput). "
    "Ratios are medians of paired per-round *time* ratios: > 1 means the first named "
    "implementation is slower (on the GFLOP/s row too). spread: largest relative IQR across "
    "implementations. bg load: CPU used by other processes meanwhile, in cores.")


def problems(results, numerics, skipped, quiet):
    lines = [f"{impl}: skipped ({why})" for impl, why in skipped.items()]
    for name, res in results.items():
        for impl, why in res["unavailable"].items():
            if why != "n/a":
                lines.append(f"{name} / {impl}: {why}")
        if res.get("rounds_disturbed_kept"):
            lines.append(f"{name}: {res['rounds_disturbed_kept']} of its rounds ran while other "
                         f"processes used > {quiet.max_bg_load} cores: its timings are suspect")
    for name, report in numerics.items():
        for impl, entry in report.items():
            if "error" in entry:
                lines.append(f"{name} / {impl}: numerics check could not run ({entry['error']})")
            elif not entry["ok"]:
                lines.append(f"{name} / {impl}: NUMERICS MISMATCH {describe_check(entry)}")
    return lines


def import_note(results):
    """The ``import`` row against its budgets: ember within 0.05 s of numpy (DESIGN.md), at most 0.2 s
    (issue 11); None when the row did not run both."""
    impls = results.get("import", {}).get("impls", {})
    if "ember" not in impls or "numpy" not in impls:
        return None
    ember, numpy = impls["ember"], impls["numpy"]
    return (f"import: ember {ember['value']:.3f} s (spread {100 * ember['iqr_rel']:.0f}%), numpy "
            f"{numpy['value']:.3f} s: ember - numpy = {ember['value'] - numpy['value']:.3f} s "
            f"(budgets: <= 0.2 s, within 0.05 s of numpy)")


def describe_check(entry):
    if "error" in entry:
        return f"error: {entry['error']}"
    if entry.get("reference") is True:
        return "reference, losses " + ", ".join(f"{x:.6f}" for x in entry["losses"])
    return (f"vs {entry['reference']}: loss rel err {entry['loss_rel_err']:.1e}, "
            f"grad rel err {entry['grad_rel_err']:.1e} -> {'ok' if entry['ok'] else 'MISMATCH'}")


def write_markdown(path, env, mode_name, mode, head, rows, numerics, notes):
    parts = [
        "# ember benchmark results",
        "",
        f"Generated by `python bench/bench.py {' '.join(sys.argv[1:])}` "
        f"(mode {mode_name}: {mode.rounds} rounds, ~{mode.batch_s}s batches).",
        "",
        markdown_table(head, rows),
        "",
        TABLE_LEGEND,
        "",
        "## Numerics check",
        "",
    ]
    for name, report in numerics.items():
        for impl, entry in report.items():
            parts.append(f"- {name} / {impl}: {describe_check(entry)}")
    if not numerics:
        parts.append("- not run")
    parts += ["", "## Environment", "", "```", *environment_lines(env), "```"]
    if notes:
        parts += ["", "## Problems and warnings", "", *[f"- {n}" for n in notes]]
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


# --------------------------------------------------------------------------
# Main


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--impl", default="torch,numpy,ember",
                   help="comma-separated implementations, from: " + ",".join(IMPLS))
    p.add_argument("--quick", action="store_true", help="short run (~30 s with torch,numpy)")
    p.add_argument("--smoke", action="store_true",
                   help="CI: tiny sizes, the numerics check and one step of every workload, no timing")
    p.add_argument("--ember-threads", choices=("same", "policy"), default="same",
                   help="ember's BLAS threads: --threads, as torch's (default), or ember's own default policy")
    p.add_argument("--only", help="comma-separated workload names (default: all)")
    p.add_argument("--json", metavar="PATH", help="write all results and samples as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write the table and environment as Markdown")
    p.add_argument("--rounds", type=int, help="override the number of rounds")
    p.add_argument("--batch-seconds", type=float, help="override the target batch duration")
    p.add_argument("--threads", type=int, default=2,
                   help="intra-op threads for torch and for numpy's BLAS (default 2)")
    p.add_argument("--max-bg-load", type=float, default=0.1, metavar="CORES",
                   help="redo a round if other processes used more CPU than this (default 0.1)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="total time the run may wait for other processes to go quiet (default 0)")
    p.add_argument("--ember-root", default=EMBER_ROOT,
                   help=f"ember source tree to try if ember is not installed (default {EMBER_ROOT})")
    p.add_argument("--no-check", action="store_true", help="skip the numerics check")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for wl in W.WORKLOADS:
            print(f"{wl.name:28s} {wl.unit:8s} {wl.description}")
        return 0
    selected = [s.strip() for s in args.impl.split(",") if s.strip()]
    unknown = [s for s in selected if s not in IMPLS]
    wanted = set(args.only.split(",")) if args.only else None
    known = {wl.name for wl in W.WORKLOADS}
    if unknown or (wanted and not wanted <= known):
        sys.exit(f"unknown implementation(s) {unknown} or workload(s) "
                 f"{sorted((wanted or set()) - known)}; see --list")
    mode_name = "smoke" if args.smoke else "quick" if args.quick else "full"
    mode = MODES["quick" if args.smoke else mode_name]
    W.EPOCH_MODE = mode_name
    mode = dataclasses.replace(mode, rounds=args.rounds or mode.rounds,
                               batch_s=args.batch_seconds or mode.batch_s)
    if mode.rounds < 3:
        sys.exit("--rounds must be at least 3")

    quiet = QuietPolicy(args.max_bg_load, args.wait_quiet)
    initial_environ = dict(os.environ)  # torch's import adds KMP_DUPLICATE_LIB_OK
    impls, skipped = load_impls(selected, args.threads, args.ember_root, args.ember_threads)
    env = environment(impls, initial_environ)
    print("\n".join(environment_lines(env)))
    notes = warnings_for(env)
    for note in notes:
        print(f"WARNING: {note}")
    for impl, why in skipped.items():
        print(f"note: {impl} skipped: {why}")
    if args.smoke:
        print("mode smoke: tiny sizes, numerics check and one step each, no timing\n")
    else:
        print(f"mode {mode_name}: {mode.rounds} rounds of ~{mode.batch_s}s batches per implementation\n")

    chosen = [wl for wl in W.WORKLOADS if wanted is None or wl.name in wanted]
    data = {wl.name: ((args.smoke and wl.smoke_data) or wl.make_data)(np.random.default_rng(0)) for wl in chosen}

    numerics = {}
    if not args.no_check:
        for wl in (wl for wl in chosen if wl.check):
            numerics[wl.name] = check_numerics(wl, impls, data[wl.name])
            for impl, entry in numerics[wl.name].items():
                print(f"check {wl.name} / {impl}: {describe_check(entry)}")
        print()

    results = {}
    for wl in chosen:
        t0 = time.perf_counter()
        if args.smoke:
            results[wl.name] = res = smoke_workload(wl, impls, data.pop(wl.name))
            failed = {impl: why for impl, why in res["unavailable"].items() if why != "n/a"}
            print(f"{wl.name}: {'; '.join(f'{i} {w}' for i, w in failed.items()) or 'ok'}", flush=True)
            continue
        results[wl.name] = res = run_workload(wl, impls, data.pop(wl.name), mode, quiet)
        summary = ", ".join(f"{impl} {fmt_value(r['value'])} ({r['cores_busy']:.1f} cores)"
                            for impl, r in res["impls"].items())
        redone = f", {res['rounds_redone']} rounds redone" if res.get("rounds_redone") else ""
        print(f"{wl.name}: {summary or 'nothing ran'} {wl.unit}  "
              f"({time.perf_counter() - t0:.1f}s{redone})", flush=True)
    env["loadavg_at_end"] = os.getloadavg()
    settings = {"mode": mode_name, **dataclasses.asdict(mode), "threads": args.threads,
                "settle_s": SETTLE_S, "max_bg_load": args.max_bg_load,
                "wait_quiet_s": args.wait_quiet}

    head, rows = header(selected), table_rows(results, selected)
    notes += problems(results, numerics, skipped, quiet)
    if not args.smoke and import_note(results):
        notes.append(import_note(results))
    if not args.smoke:
        print("\n" + text_table(head, rows) + "\n")
        print(TABLE_LEGEND)
    for note in notes:
        print(f"! {note}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"argv": sys.argv[1:], "settings": settings, "environment": env,
                       "numerics": numerics, "results": results, "notes": notes}, f, indent=1)
    if args.markdown:
        write_markdown(args.markdown, env, mode_name, mode, head, rows, numerics, notes)
    mismatch = any(not e["ok"] and "error" not in e for r in numerics.values() for e in r.values())
    if args.smoke:  # in CI an implementation that cannot run a workload, or that skipped, fails too
        mismatch = mismatch or bool(skipped) or any(not e["ok"] for r in numerics.values() for e in r.values()) \
            or any(why != "n/a" for r in results.values() for why in r["unavailable"].values())
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
