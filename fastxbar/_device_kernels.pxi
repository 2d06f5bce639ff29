# Device-update kernels: the scalar device step, its random draws and the array kernels.
# Included by _kernels.pyx; the cdef functions are declared in _kernels.pxd.
#
# Contract shared with fastxbar._reference and fastxbar._numba_kernels: arithmetic in double,
# one rounding to the state's dtype, random draws hashed from (pulse key, device index) so the
# result does not depend on the thread count.

cdef uint64_t GOLDEN_GAMMA = 0x9E3779B97F4A7C15ULL
cdef uint64_t MIX_1 = 0xBF58476D1CE4E5B9ULL
cdef uint64_t MIX_2 = 0x94D049BB133111EBULL
cdef double TO_UNIT = 1.0 / 9007199254740992.0
cdef double TWO_PI = 6.283185307179586
# Largest parameter vector of a built-in model (VTEAM has 11).
cdef enum:
    MAX_PARAMS = 16


cdef double splitmix64_uniform(uint64_t key, uint64_t counter) noexcept nogil:
    cdef uint64_t z = key + counter * GOLDEN_GAMMA
    z = (z ^ (z >> 30)) * MIX_1
    z = (z ^ (z >> 27)) * MIX_2
    z = z ^ (z >> 31)
    return <double>(z >> 11) * TO_UNIT


cdef double uniform_draw(uint64_t key, uint64_t device_index) noexcept nogil:
    return splitmix64_uniform(key, 3 * device_index)


cdef double noise_factor(uint64_t key, uint64_t device_index, double noise_std) noexcept nogil:
    if noise_std <= 0.0:
        return 1.0
    cdef double u1 = 1.0 - splitmix64_uniform(key, 3 * device_index + 1)
    cdef double u2 = splitmix64_uniform(key, 3 * device_index + 2)
    return 1.0 + noise_std * (sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2))


cdef inline double clip(double value, double low, double high) noexcept nogil:
    return min(max(value, low), high)


cdef double window_function(double x, double direction, int window, double p, double j) noexcept nogil:
    cdef double bound
    if window == 1:
        return 1.0 - pow((2.0 * x - 1.0) * (2.0 * x - 1.0), p)
    if window == 2:
        bound = 1.0 if direction < 0 else 0.0
        return 1.0 - pow((x - bound) * (x - bound), p)
    if window == 3:
        return j * (1.0 - pow((x - 0.5) * (x - 0.5) + 0.75, p))
    return 1.0


cdef double step_model(int model, double g, double v, double duration, const double* p,
                       double eta) noexcept nogil:
    cdef double g_min = p[0], g_max = p[1], dg_up = p[2], dg_down = p[3]
    cdef double n = duration / p[6]
    cdef double span = g_max - g_min
    cdef double dg, fraction
    if v >= p[4]:
        if model == 0:
            dg = dg_up * n
        elif model == 1:
            fraction = dg_up / span if n == 1.0 else 1.0 - pow(1.0 - dg_up / span, n)
            dg = (g_max - g) * fraction
        else:
            dg = dg_up * n * exp(-p[7] * (g - g_min) / span)
    elif v <= p[5]:
        if model == 0:
            dg = -dg_down * n
        elif model == 1:
            fraction = dg_down / span if n == 1.0 else 1.0 - pow(1.0 - dg_down / span, n)
            dg = -(g - g_min) * fraction
        else:
            dg = -dg_down * n * exp(-p[8] * (1.0 - (g - g_min) / span))
    else:
        return g
    return clip(g + dg * eta, g_min, g_max)


cdef Py_ssize_t nearest_bin(const double* bins, Py_ssize_t n_bins, double g) noexcept nogil:
    # Count of bins below g, as numpy.searchsorted(side="left"), then the nearer neighbour.
    cdef Py_ssize_t low = 0, high = n_bins, middle
    while low < high:
        middle = (low + high) // 2
        if bins[middle] < g:
            low = middle + 1
        else:
            high = middle
    if low == 0:
        return 0
    if low == n_bins:
        return n_bins - 1
    return low - 1 if g - bins[low - 1] <= bins[low] - g else low


cdef double quantile(const double* cdf, Py_ssize_t n_cdf, const double* table, Py_ssize_t n_bins,
                     Py_ssize_t column, double u) noexcept nogil:
    # Largest row with cdf[row] <= u, as numpy.searchsorted(side="right") - 1.
    cdef Py_ssize_t low = 0, high = n_cdf, middle, row
    while low < high:
        middle = (low + high) // 2
        if cdf[middle] <= u:
            low = middle + 1
        else:
            high = middle
    row = min(max(low - 1, 0), n_cdf - 2)
    cdef double width = cdf[row + 1] - cdf[row]
    cdef double t = (u - cdf[row]) / width if width > 0.0 else 0.0
    cdef double below = table[row * n_bins + column]
    return below + t * (table[(row + 1) * n_bins + column] - below)


cdef double lookup_table(double g, double v, double duration, const double* p, double eta, double u,
                         DeviceTables* tables) noexcept nogil:
    cdef const double* table
    if v >= p[3]:
        table = tables.up
    elif v <= p[4]:
        table = tables.down
    else:
        return g
    cdef Py_ssize_t column = nearest_bin(tables.bins, tables.n_bins, g)
    cdef double dg = quantile(tables.cdf, tables.n_cdf, table, tables.n_bins, column, u)
    return clip(g + dg * (duration / p[5]) * p[2] * eta, p[0], p[1])


cdef double drift_rate(int model, double x, double rate, double v, double direction, int window,
                       const double* p) noexcept nogil:
    # dx/dt of the ion-drift models at normalised state x.
    cdef double resistance
    if model == 4:
        resistance = p[0] * x + p[1] * (1.0 - x)
        return rate * v / resistance * window_function(x, direction, window, p[3], p[4])
    return rate * window_function(x, direction, window, p[10], 1.0)


cdef double runge_kutta(int model, double x, double rate, double v, double direction, int window,
                        const double* p, double duration, int n_substeps) noexcept nogil:
    cdef double h = duration / n_substeps
    cdef double k1, k2, k3, k4
    cdef int step
    for step in range(n_substeps):
        k1 = drift_rate(model, x, rate, v, direction, window, p)
        k2 = drift_rate(model, clip(x + 0.5 * h * k1, 0.0, 1.0), rate, v, direction, window, p)
        k3 = drift_rate(model, clip(x + 0.5 * h * k2, 0.0, 1.0), rate, v, direction, window, p)
        k4 = drift_rate(model, clip(x + h * k3, 0.0, 1.0), rate, v, direction, window, p)
        x = clip(x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), 0.0, 1.0)
    return x


cdef double linear_ion_drift(int option, double x, double v, double duration, const double* p,
                             double eta, int n_substeps) noexcept nogil:
    cdef double r_on = p[0], r_off = p[1]
    cdef double rate = p[2] * eta
    cdef double charge_term, resistance, discriminant, direction
    if option == 0:
        # R(x)^2 falls by 2 (r_off - r_on) k V t: a closed form free of cancellation.
        charge_term = rate * v * duration
        resistance = r_on * x + r_off * (1.0 - x)
        discriminant = resistance * resistance - 2.0 * (r_off - r_on) * charge_term
        if discriminant < 0.0:
            return 1.0
        return clip(x + 2.0 * charge_term / (resistance + sqrt(discriminant)), 0.0, 1.0)
    direction = 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)
    return runge_kutta(4, x, rate, v, direction, option, p, duration, n_substeps)


cdef double vteam(int option, double w, double v, double duration, const double* p, double eta,
                  int n_substeps) noexcept nogil:
    cdef double v_on = p[0], v_off = p[1], w_on = p[8], w_off = p[9]
    cdef double rate, span, direction, x
    cdef int window = option % 4
    if v > v_off:
        rate = p[3] * pow(v / v_off - 1.0, p[5])
    elif v < v_on:
        rate = p[2] * pow(v / v_on - 1.0, p[4])
    else:
        return w
    rate *= eta
    if window == 0:
        return clip(w + rate * duration, w_on, w_off)
    span = w_off - w_on
    direction = 1.0 if rate > 0 else (-1.0 if rate < 0 else 0.0)
    x = runge_kutta(5, (w - w_on) / span, rate / span, v, direction, window, p, duration, n_substeps)
    return clip(w_on + x * span, w_on, w_off)


cdef double device_step(int model, int option, double x, double v, double duration, const double* p,
                        double eta, double u, int n_substeps, DeviceTables* tables) noexcept nogil:
    if model <= 2:
        return step_model(model, x, v, duration, p, eta)
    if model == 3:
        return lookup_table(x, v, duration, p, eta, u, tables)
    if model == 4:
        return linear_ion_drift(option, x, v, duration, p, eta, n_substeps)
    return vteam(option, x, v, duration, p, eta, n_substeps)


cdef double device_conductance(int model, int option, double x, const double* p) noexcept nogil:
    cdef double xn
    if model == 4:
        return 1.0 / (p[0] * x + p[1] * (1.0 - x))
    if model == 5:
        xn = (x - p[8]) / (p[9] - p[8])
        if option // 4 == 0:
            return 1.0 / (p[6] + (p[7] - p[6]) * xn)
        return 1.0 / (p[6] * exp(log(p[7] / p[6]) * xn))
    return x


cdef void pulse_row(int model, int option, floating[:, ::1] state, const double[:, :, :] params,
                    Py_ssize_t i, const double[::1] row_voltages, const double[::1] col_voltages,
                    const double[:, :] extra_voltages, double duration, double noise_std,
                    uint64_t key, int n_substeps, DeviceTables* tables) noexcept nogil:
    # One word line per call, so the parameter buffer is private to the calling thread.
    cdef Py_ssize_t n_columns = state.shape[1], n_params = params.shape[0]
    cdef double p[MAX_PARAMS]
    cdef double eta, u, v
    cdef uint64_t index
    cdef Py_ssize_t j, k
    for j in range(n_columns):
        for k in range(n_params):
            p[k] = params[k, i, j]
        index = <uint64_t>(i * n_columns + j)
        eta = noise_factor(key, index, noise_std)
        u = uniform_draw(key, index) if model == 3 else 0.0
        v = row_voltages[i] - col_voltages[j] + extra_voltages[i, j]
        state[i, j] = <floating>device_step(model, option, state[i, j], v, duration, p, eta, u,
                                            n_substeps, tables)


cdef void uniform_step_row(int model, floating* g, Py_ssize_t n_columns, double row_voltage,
                           const double* col_voltages, const double* p,
                           double duration) noexcept nogil:
    # Identical noise-free step devices: the step parameters are hoisted out of the loop and
    # each model gets its own branch-free loop, so the compiler can vectorise it.
    cdef double g_min = p[0], g_max = p[1], v_set = p[4], v_reset = p[5]
    cdef double n = duration / p[6]
    cdef double span = g_max - g_min
    cdef double a_up, a_down, x, v, y, step
    cdef Py_ssize_t j
    if model == 0:
        a_up = p[2] * n
        a_down = -p[3] * n
        for j in range(n_columns):
            v = row_voltage - col_voltages[j]
            step = 0.0
            if v >= v_set:
                step = a_up
            elif v <= v_reset:
                step = a_down
            y = g[j] + step
            y = g_min if y < g_min else y
            g[j] = <floating>(g_max if y > g_max else y)
        return
    a_up = p[2] / span if n == 1.0 else 1.0 - pow(1.0 - p[2] / span, n)
    a_down = p[3] / span if n == 1.0 else 1.0 - pow(1.0 - p[3] / span, n)
    for j in range(n_columns):
        v = row_voltage - col_voltages[j]
        x = g[j]
        # Soft bounds: the step is a fixed fraction of the distance to the bound ahead.
        step = 0.0
        if v >= v_set:
            step = a_up * (g_max - x)
        elif v <= v_reset:
            step = -a_down * (x - g_min)
        y = x + step
        y = g_min if y < g_min else y
        g[j] = <floating>(g_max if y > g_max else y)


cdef extern from *:
    """
    /* The exact ion-drift step of identical, noise-free devices, in C so that gcc can build an
       AVX2 clone beside the baseline one and pick it at load time: the float64 square root and
       division make this loop compute-bound with SSE2 vectors. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define FASTXBAR_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define FASTXBAR_CLONES
    #endif
    #if defined(_MSC_VER)
    #define FASTXBAR_RESTRICT __restrict
    #else
    #define FASTXBAR_RESTRICT restrict
    #endif
    #define FASTXBAR_DRIFT_ROW(NAME, TYPE)                                                     \
    FASTXBAR_CLONES static void NAME(TYPE* FASTXBAR_RESTRICT state, Py_ssize_t n_columns,  \
                                     double row_voltage,                                     \
                                     const double* FASTXBAR_RESTRICT col_voltages,           \
                                     const double* p,                                        \
                                     double duration) {                                      \
        double r_on = p[0], r_off = p[1], scale = p[2] * duration;                           \
        double dr2 = 2.0 * (p[1] - p[0]);                                                    \
        for (Py_ssize_t j = 0; j < n_columns; j++) {                                         \
            double x = state[j];                                                             \
            double q = scale * (row_voltage - col_voltages[j]);                              \
            double resistance = r_on * x + r_off * (1.0 - x);                                \
            double discriminant = resistance * resistance - dr2 * q;                         \
            double root = sqrt(discriminant > 0.0 ? discriminant : 0.0);                     \
            double y = x + 2.0 * q / (resistance + root);                                    \
            y = discriminant < 0.0 ? 1.0 : y;                                                \
            y = y < 0.0 ? 0.0 : y;                                                           \
            state[j] = (TYPE)(y > 1.0 ? 1.0 : y);                                            \
        }                                                                                    \
    }
    FASTXBAR_DRIFT_ROW(fastxbar_drift_row_double, double)
    FASTXBAR_DRIFT_ROW(fastxbar_drift_row_float, float)
    """
    void fastxbar_drift_row_double(double* state, Py_ssize_t n_columns, double row_voltage,
                                   const double* col_voltages, const double* p,
                                   double duration) noexcept nogil
    void fastxbar_drift_row_float(float* state, Py_ssize_t n_columns, double row_voltage,
                                  const double* col_voltages, const double* p,
                                  double duration) noexcept nogil


cdef inline void uniform_drift_row(floating* state, Py_ssize_t n_columns, double row_voltage,
                                   const double* col_voltages, const double* p,
                                   double duration) noexcept nogil:
    # Identical noise-free ion-drift devices without a window: the exact step, branch-free.
    if floating is double:
        fastxbar_drift_row_double(state, n_columns, row_voltage, col_voltages, p, duration)
    else:
        fastxbar_drift_row_float(state, n_columns, row_voltage, col_voltages, p, duration)


cdef bint has_fast_path(int model, int option, const double[:, :, :] params,
                        const double[:, :] extra_voltages, double noise_std) noexcept nogil:
    # Identical devices (zero-stride parameters), no matrix of extra voltages, no noise.
    if noise_std > 0.0 or params.strides[1] != 0 or params.strides[2] != 0:
        return False
    if extra_voltages.strides[0] != 0 or extra_voltages.strides[1] != 0 or extra_voltages[0, 0] != 0.0:
        return False
    return model == 0 or model == 1 or (model == 4 and option == 0)


cdef void conductance_row(int model, int option, const floating[:, ::1] state,
                          const double[:, :, :] params, floating[:, ::1] out,
                          Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t n_columns = state.shape[1], n_params = params.shape[0]
    cdef double p[MAX_PARAMS]
    cdef Py_ssize_t j, k
    for j in range(n_columns):
        for k in range(n_params):
            p[k] = params[k, i, j]
        out[i, j] = <floating>device_conductance(model, option, state[i, j], p)


def apply_pulse(int model, int option, floating[:, ::1] state not None,
                const double[:, :, :] params not None, const double[::1] row_voltages not None,
                const double[::1] col_voltages not None, const double[:, :] extra_voltages not None,
                double duration, double noise_std, uint64_t key, int n_substeps,
                const double[::1] table_bins not None, const double[::1] table_cdf not None,
                const double[:, ::1] table_up not None, const double[:, ::1] table_down not None,
                int n_threads):
    """Apply one pulse of ``duration`` seconds to every device, updating ``state`` in place.

    Device (i, j) sees ``row_voltages[i] - col_voltages[j] + extra_voltages[i, j]`` volts.

    Notes
    -----
    The caller guarantees: ``params`` has shape (n_params, n_word_lines, n_bit_lines) with
    n_params <= 16 and may have zero strides (identical devices); ``extra_voltages`` has the
    shape of ``state`` and may have zero strides; the tables have shapes (n_bins,), (n_cdf,),
    (n_cdf, n_bins) and (n_cdf, n_bins).
    """
    cdef Py_ssize_t i, k
    cdef Py_ssize_t n_columns = state.shape[1]
    cdef double p[MAX_PARAMS]
    cdef DeviceTables tables
    tables.bins = &table_bins[0]
    tables.n_bins = table_bins.shape[0]
    tables.cdf = &table_cdf[0]
    tables.n_cdf = table_cdf.shape[0]
    tables.up = &table_up[0, 0]
    tables.down = &table_down[0, 0]
    if has_fast_path(model, option, params, extra_voltages, noise_std):
        for k in range(params.shape[0]):
            p[k] = params[k, 0, 0]
        for i in prange(state.shape[0], nogil=True, num_threads=n_threads, schedule="static"):
            if model == 4:
                uniform_drift_row(&state[i, 0], n_columns, row_voltages[i], &col_voltages[0], p, duration)
            else:
                uniform_step_row(model, &state[i, 0], n_columns, row_voltages[i], &col_voltages[0], p,
                                 duration)
        return
    for i in prange(state.shape[0], nogil=True, num_threads=n_threads, schedule="static"):
        pulse_row(model, option, state, params, i, row_voltages, col_voltages, extra_voltages,
                  duration, noise_std, key, n_substeps, &tables)


def state_to_conductance(int model, int option, const floating[:, ::1] state not None,
                         const double[:, :, :] params not None, floating[:, ::1] out not None,
                         int n_threads):
    """Write each device's conductance in siemens into ``out`` (same shape as ``state``)."""
    cdef Py_ssize_t i
    for i in prange(state.shape[0], nogil=True, num_threads=n_threads, schedule="static"):
        conductance_row(model, option, state, params, out, i)
