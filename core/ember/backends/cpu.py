"""``ember.backends.cpu``: what the CPU offers to ember's kernels."""


def get_cpu_capability() -> str:
    """ember's CPU kernels are numpy's, which pick their own SIMD path at run time; "DEFAULT" says that
    ember itself selects none."""
    return "DEFAULT"
