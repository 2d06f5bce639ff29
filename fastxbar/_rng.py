"""Counter-based random numbers shared by every backend.

Each device's random draw for one pulse is a hash of (pulse key, device index). The result
therefore does not depend on the number of threads or on the order in which devices are visited,
and the NumPy, Numba and Cython kernels produce the same numbers. The hash is the SplitMix64 output function
(Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014,
doi:10.1145/2660193.2660195).
"""

import numpy as np

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)
#: 2**-53: turns the top 53 bits of a 64-bit word into a double in [0, 1).
TO_UNIT = 1.0 / 9007199254740992.0


def mix64(z):
    """Apply the SplitMix64 finaliser to a uint64 scalar or array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.asarray(z, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * MIX_1
        z = (z ^ (z >> np.uint64(27))) * MIX_2
        return z ^ (z >> np.uint64(31))


def pulse_key(base_key: int, pulse_index: int) -> np.uint64:
    """Return the 64-bit key of one pulse from a crossbar's base key and its pulse counter."""
    with np.errstate(over="ignore"):
        return np.uint64(mix64(np.uint64(base_key) + np.uint64(pulse_index) * GOLDEN_GAMMA))


def uniform(key, counter):
    """Return a double in [0, 1) for each uint64 ``counter`` under one pulse ``key``."""
    with np.errstate(over="ignore"):
        z = mix64(np.uint64(key) + np.asarray(counter, dtype=np.uint64) * GOLDEN_GAMMA)
    return (z >> np.uint64(11)).astype(np.float64) * TO_UNIT


def standard_normal(key, device_index):
    """Return a standard normal draw per device by the Box-Muller transform.

    Device ``k`` uses counters ``3k + 1`` and ``3k + 2``; counter ``3k`` is the uniform draw of
    the lookup-table device, so the two never share a counter.
    """
    device_index = np.asarray(device_index, dtype=np.uint64)
    u1 = 1.0 - uniform(key, np.uint64(3) * device_index + np.uint64(1))
    u2 = uniform(key, np.uint64(3) * device_index + np.uint64(2))
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
