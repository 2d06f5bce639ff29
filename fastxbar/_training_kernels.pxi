# Training kernels: one online USD epoch and a whole batch-USD run per call.
# Included by _kernels.pyx, so the device functions of _device_kernels.pxi are called directly.
#
# Contract shared with fastxbar._training_reference (whose docstring describes every argument)
# and fastxbar._training_numba: arrays in, ``state`` updated in place, the next pulse counter
# returned, one pulse key per write phase. A conductance array is kept beside the state and
# refreshed only for devices that a pulse reached; devices at 0 V are skipped because no model
# moves at 0 V. Writes run their word-line loop on ``n_threads`` OpenMP threads only for large
# arrays.

from libc.stdint cimport int64_t
import numpy as _np

# Smallest array (word lines x bit lines) whose writes are split across threads; below it,
# starting threads for every phase costs more than the phase. Same as _training_numba.
cdef enum:
    TRAINING_PARALLEL_MIN_DEVICES = 16384


cdef inline uint64_t training_pulse_key(uint64_t base_key, uint64_t pulse_count) noexcept nogil:
    # fastxbar._rng.pulse_key: the SplitMix64 finaliser of base_key + pulse_count * gamma.
    cdef uint64_t z = base_key + pulse_count * GOLDEN_GAMMA
    z = (z ^ (z >> 30)) * MIX_1
    z = (z ^ (z >> 27)) * MIX_2
    return z ^ (z >> 31)


cdef inline double sign_of(double value) noexcept nogil:
    return 1.0 if value > 0.0 else (-1.0 if value < 0.0 else 0.0)


cdef inline void update_state(int model, int option, floating* state,
                              const double* device_params, Py_ssize_t n_params,
                              Py_ssize_t index, double v, double duration, double noise_std,
                              uint64_t key, int n_substeps, DeviceTables* tables) noexcept nogil:
    cdef double eta = noise_factor(key, <uint64_t>index, noise_std)
    cdef double u = uniform_draw(key, <uint64_t>index) if model == 3 else 0.0
    state[index] = <floating>device_step(model, option, state[index], v, duration,
                                         device_params + index * n_params, eta, u, n_substeps,
                                         tables)


cdef inline void update_device(int model, int option, floating* state, double* conductances,
                               const double* device_params, Py_ssize_t n_params,
                               Py_ssize_t index, double v, double duration, double noise_std,
                               uint64_t key, int n_substeps, DeviceTables* tables) noexcept nogil:
    # Raw pointers: a memoryview argument costs two atomic reference-count updates per call,
    # which the per-device hot loop cannot afford. ``index`` is i * n_bit_lines + j.
    cdef double eta = noise_factor(key, <uint64_t>index, noise_std)
    cdef double u = uniform_draw(key, <uint64_t>index) if model == 3 else 0.0
    cdef const double* p = device_params + index * n_params
    state[index] = <floating>device_step(model, option, state[index], v, duration, p, eta, u,
                                         n_substeps, tables)
    conductances[index] = device_conductance(model, option, state[index], p)


cdef void write_phase(bint use_threads, int n_threads, int model, int option,
                      floating[:, ::1] state, double[:, ::1] conductances,
                      const double[:, :, ::1] device_params, const double[::1] row_voltages,
                      const double[::1] column_voltages, const double[::1] column_signs,
                      bint product, double duration, double noise_std, uint64_t key,
                      int n_substeps, DeviceTables* tables) noexcept nogil:
    # product: device (i, j) sees row_voltages[i] * column_signs[j] (ideal per-device write);
    # otherwise it sees row_voltages[i] - column_voltages[j] (a driven phase).
    cdef Py_ssize_t i, j, index
    cdef Py_ssize_t n_columns = state.shape[1], n_params = device_params.shape[2]
    cdef floating* state_data = &state[0, 0]
    cdef double* conductance_data = &conductances[0, 0]
    cdef const double* params_data = &device_params[0, 0, 0]
    cdef const double* rows = &row_voltages[0]
    cdef const double* columns = &column_voltages[0]
    cdef const double* signs = &column_signs[0]
    cdef double v
    for i in prange(state.shape[0], num_threads=n_threads, use_threads_if=use_threads,
                    schedule="static"):
        for j in range(n_columns):
            if product:
                v = rows[i] * signs[j]
            else:
                v = rows[i] - columns[j]
            if v != 0.0:
                index = i * n_columns + j
                update_device(model, option, state_data, conductance_data, params_data,
                              n_params, index, v, duration, noise_std, key, n_substeps, tables)


cdef void write_phases_fused(bint use_threads, int n_threads, int model, int option,
                             floating[:, ::1] state, double[:, ::1] conductances,
                             const double[:, :, ::1] device_params,
                             const double[:, ::1] phase_rows, const double[:, ::1] phase_columns,
                             const uint64_t* keys, const bint* active, double duration,
                             double noise_std, int n_substeps,
                             DeviceTables* tables) noexcept nogil:
    # The four phases in one pass over the array: a device's update depends only on its own
    # state, so applying its phases in order, device by device, gives the same result as
    # applying each phase to the whole array in turn, with a quarter of the memory traffic.
    cdef Py_ssize_t i, j, index, k
    cdef Py_ssize_t n_columns = state.shape[1], n_params = device_params.shape[2]
    cdef floating* state_data = &state[0, 0]
    cdef double* conductance_data = &conductances[0, 0]
    cdef const double* params_data = &device_params[0, 0, 0]
    cdef double v, eta, u, x
    cdef bint moved
    cdef const double* p
    for i in prange(state.shape[0], num_threads=n_threads, use_threads_if=use_threads,
                    schedule="static"):
        for j in range(n_columns):
            index = i * n_columns + j
            moved = False
            for k in range(4):
                if not active[k]:
                    continue
                v = phase_rows[k, i] - phase_columns[k, j]
                if v != 0.0:
                    update_state(model, option, state_data, params_data, n_params, index, v,
                                 duration, noise_std, keys[k], n_substeps, tables)
                    moved = True
            if moved:
                conductance_data[index] = device_conductance(
                    model, option, state_data[index], params_data + index * n_params)


cdef void all_conductances(int model, int option, floating[:, ::1] state,
                           const double[:, :, ::1] device_params,
                           double[:, ::1] conductances) noexcept nogil:
    cdef Py_ssize_t i, j
    for i in range(state.shape[0]):
        for j in range(state.shape[1]):
            conductances[i, j] = device_conductance(model, option, state[i, j],
                                                    &device_params[i, j, 0])


cdef void decision_values(const double[:, ::1] conductances, const double[::1] voltages,
                          const int64_t[::1] plus_columns, const int64_t[::1] minus_columns,
                          double output_scale, double[::1] currents,
                          double[::1] outputs) noexcept nogil:
    cdef Py_ssize_t i, j, k
    currents[:] = 0.0
    for i in range(conductances.shape[0]):
        if voltages[i] != 0.0:
            for j in range(conductances.shape[1]):
                currents[j] += voltages[i] * conductances[i, j]
    for k in range(plus_columns.shape[0]):
        outputs[k] = output_scale * (currents[plus_columns[k]] - currents[minus_columns[k]])


cdef bint is_error(const double[::1] outputs, int64_t label) noexcept nogil:
    cdef Py_ssize_t k, predicted = 0
    if outputs.shape[0] == 1:
        predicted = 1 if outputs[0] > 0.0 else 0
    else:
        for k in range(1, outputs.shape[0]):
            if outputs[k] > outputs[predicted]:
                predicted = k
    return predicted != label


cdef uint64_t write_outer(bint use_threads, int n_threads, int model, int option,
                          floating[:, ::1] state, double[:, ::1] conductances,
                          const double[:, :, ::1] device_params, const double[::1] row_signs,
                          const double[::1] column_signs, int scheme, double v_write,
                          double duration, double noise_std, uint64_t base_key,
                          uint64_t pulse_count, int n_substeps, DeviceTables* tables,
                          double[::1] row_voltages, double[::1] column_voltages,
                          double[:, ::1] phase_rows, double[:, ::1] phase_columns) noexcept nogil:
    # Phase k has device-voltage sign s = +1 for k < 2 and -1 after, selects word lines whose
    # input sign is r = +1 for even k and -1 for odd k, and bit lines whose sign is s * r: the
    # order (+, +, +), (+, -, -), (-, +, -), (-, -, +) of _training_reference.PHASES.
    cdef Py_ssize_t i, j
    cdef int phase
    cdef bint selected, any_row, any_column
    cdef bint active[4]
    cdef uint64_t keys[4]
    cdef double polarity, row_sign, column_sign, unselected_row, unselected_column
    if scheme == 0:
        for i in range(row_signs.shape[0]):
            row_voltages[i] = v_write * row_signs[i]
        write_phase(use_threads, n_threads, model, option, state, conductances, device_params,
                    row_voltages, column_voltages, column_signs, True, duration, noise_std,
                    training_pulse_key(base_key, pulse_count), n_substeps, tables)
        return pulse_count + 1
    unselected_row = 0.0 if scheme == 1 else -1.0 / 6.0
    unselected_column = 0.0 if scheme == 1 else 1.0 / 6.0
    for phase in range(4):
        polarity = 1.0 if phase < 2 else -1.0
        row_sign = 1.0 if phase % 2 == 0 else -1.0
        column_sign = polarity * row_sign
        any_row = False
        any_column = False
        for i in range(row_signs.shape[0]):
            selected = row_signs[i] == row_sign
            any_row = any_row or selected
            phase_rows[phase, i] = (0.5 if selected else unselected_row) * polarity * v_write
        for j in range(column_signs.shape[0]):
            selected = column_signs[j] == column_sign
            any_column = any_column or selected
            phase_columns[phase, j] = (-0.5 if selected else unselected_column) * polarity * v_write
        # A phase with nothing to write is skipped, because it would only disturb, but it
        # still uses up its pulse key.
        active[phase] = any_row and any_column
        keys[phase] = training_pulse_key(base_key, pulse_count + phase)
    write_phases_fused(use_threads, n_threads, model, option, state, conductances, device_params,
                       phase_rows, phase_columns, keys, active, duration, noise_std, n_substeps,
                       tables)
    return pulse_count + 4


cdef void column_signs_of(const double[::1] error_signs, const int64_t[::1] plus_columns,
                          const int64_t[::1] minus_columns, bint train_minus, double polarity,
                          double[::1] signs) noexcept nogil:
    cdef Py_ssize_t k
    signs[:] = 0.0
    for k in range(plus_columns.shape[0]):
        signs[plus_columns[k]] = -error_signs[k] * polarity
        if train_minus:
            signs[minus_columns[k]] = error_signs[k] * polarity


cdef DeviceTables make_tables(const double[::1] table_bins, const double[::1] table_cdf,
                              const double[:, ::1] table_up,
                              const double[:, ::1] table_down) noexcept nogil:
    cdef DeviceTables tables
    tables.bins = &table_bins[0]
    tables.n_bins = table_bins.shape[0]
    tables.cdf = &table_cdf[0]
    tables.n_cdf = table_cdf.shape[0]
    tables.up = &table_up[0, 0]
    tables.down = &table_down[0, 0]
    return tables


def usd_online_epoch(int model, int option, floating[:, ::1] state not None,
                     const double[:, :, ::1] device_params not None,
                     const double[::1] table_bins not None, const double[::1] table_cdf not None,
                     const double[:, ::1] table_up not None,
                     const double[:, ::1] table_down not None,
                     const double[:, ::1] inputs not None, const double[:, ::1] targets not None,
                     const int64_t[::1] plus_columns not None,
                     const int64_t[::1] minus_columns not None, bint train_minus,
                     double output_scale, int loss, int scheme, double v_write, int polarity,
                     double duration, double noise_std, uint64_t base_key, uint64_t pulse_count,
                     int n_substeps, int n_threads):
    """Run one online USD epoch, updating ``state`` in place; return the next pulse counter.

    Notes
    -----
    The arguments are those of ``fastxbar._training_reference.usd_online_epoch``. The caller
    guarantees: ``device_params`` has shape (n_word_lines, n_bit_lines, n_params) with
    n_params <= 16, ``inputs`` has n_word_lines columns, ``targets`` and both column arrays
    have n_outputs entries per sample, and every column index is below n_bit_lines.
    Writes use ``n_threads`` threads for arrays of at least TRAINING_PARALLEL_MIN_DEVICES devices.
    """
    cdef Py_ssize_t n, i, k
    cdef Py_ssize_t n_rows = state.shape[0], n_columns = state.shape[1]
    cdef Py_ssize_t n_outputs = plus_columns.shape[0]
    cdef double y
    cdef bint use_threads = n_threads > 1 and n_rows * n_columns >= TRAINING_PARALLEL_MIN_DEVICES
    cdef DeviceTables tables = make_tables(table_bins, table_cdf, table_up, table_down)
    cdef double[:, ::1] conductances = _np.empty((n_rows, n_columns))
    cdef double[::1] currents = _np.empty(n_columns)
    cdef double[::1] outputs = _np.empty(n_outputs)
    cdef double[::1] error_signs = _np.empty(n_outputs)
    cdef double[::1] column_signs = _np.empty(n_columns)
    cdef double[::1] row_signs = _np.empty(n_rows)
    cdef double[::1] row_voltages = _np.empty(n_rows)
    cdef double[::1] column_voltages = _np.zeros(n_columns)
    cdef double[:, ::1] phase_rows = _np.empty((4, n_rows))
    cdef double[:, ::1] phase_columns = _np.empty((4, n_columns))
    with nogil:
        all_conductances(model, option, state, device_params, conductances)
        for n in range(inputs.shape[0]):
            decision_values(conductances, inputs[n], plus_columns, minus_columns, output_scale,
                            currents, outputs)
            for k in range(n_outputs):
                y = 1.0 / (1.0 + exp(-outputs[k]))
                error_signs[k] = sign_of(y - targets[n, k])
            column_signs_of(error_signs, plus_columns, minus_columns, train_minus, polarity,
                            column_signs)
            for i in range(n_rows):
                row_signs[i] = sign_of(inputs[n, i])
            pulse_count = write_outer(use_threads, n_threads, model, option, state, conductances,
                                      device_params, row_signs, column_signs, scheme, v_write,
                                      duration, noise_std, base_key, pulse_count, n_substeps,
                                      &tables, row_voltages, column_voltages, phase_rows,
                                      phase_columns)
    return pulse_count


cdef int64_t count_errors(const double[:, ::1] conductances, const double[:, ::1] inputs,
                          const int64_t[::1] labels, const int64_t[::1] plus_columns,
                          const int64_t[::1] minus_columns, double output_scale,
                          double[::1] currents, double[::1] outputs) noexcept nogil:
    cdef Py_ssize_t n
    cdef int64_t errors = 0
    for n in range(inputs.shape[0]):
        decision_values(conductances, inputs[n], plus_columns, minus_columns, output_scale,
                        currents, outputs)
        if is_error(outputs, labels[n]):
            errors += 1
    return errors


cdef void batch_signs(const double[:, ::1] conductances, const double[:, ::1] inputs,
                      const double[:, ::1] targets, const int64_t[::1] plus_columns,
                      const int64_t[::1] minus_columns, bint train_minus, double output_scale,
                      int loss, double polarity, double[::1] currents, double[::1] outputs,
                      double[:, ::1] gradient, double[:, ::1] signs) noexcept nogil:
    # Sum the gradient over the training set, then write the requested voltage signs.
    cdef Py_ssize_t n, i, k
    cdef double y, delta, direction
    gradient[:, :] = 0.0
    for n in range(inputs.shape[0]):
        decision_values(conductances, inputs[n], plus_columns, minus_columns, output_scale,
                        currents, outputs)
        for k in range(plus_columns.shape[0]):
            y = 1.0 / (1.0 + exp(-outputs[k]))
            delta = y - targets[n, k]
            if loss == 0:
                delta *= y * (1.0 - y)
            for i in range(inputs.shape[1]):
                gradient[i, k] += inputs[n, i] * delta
    signs[:, :] = 0.0
    for i in range(inputs.shape[1]):
        for k in range(plus_columns.shape[0]):
            direction = sign_of(gradient[i, k]) * polarity
            signs[i, plus_columns[k]] = -direction
            if train_minus:
                signs[i, minus_columns[k]] = direction


cdef uint64_t write_matrix(bint use_threads, int n_threads, int model, int option,
                           floating[:, ::1] state, double[:, ::1] conductances,
                           const double[:, :, ::1] device_params, const double[:, ::1] signs,
                           int scheme, double v_write, double duration, double noise_std,
                           uint64_t base_key, uint64_t pulse_count, int n_substeps,
                           DeviceTables* tables, double[::1] row_voltages,
                           double[::1] column_voltages) noexcept nogil:
    # Ideal: one pulse, each device at v_write * signs[i, j]. V/2 and V/3: word line by word
    # line, a positive then a negative phase, as _training_reference.write_matrix.
    cdef Py_ssize_t i, j, selected
    cdef uint64_t key
    cdef int phase
    cdef bint any_column
    cdef double polarity, unselected_row, unselected_column
    if scheme == 0:
        key = training_pulse_key(base_key, pulse_count)
        for i in range(state.shape[0]):
            for j in range(state.shape[1]):
                if signs[i, j] != 0.0:
                    update_device(model, option, &state[0, 0], &conductances[0, 0],
                                  &device_params[0, 0, 0], device_params.shape[2],
                                  i * state.shape[1] + j, v_write * signs[i, j], duration,
                                  noise_std, key, n_substeps, tables)
        return pulse_count + 1
    unselected_row = 0.0 if scheme == 1 else -1.0 / 6.0
    unselected_column = 0.0 if scheme == 1 else 1.0 / 6.0
    # TODO: fuse these 2 * n_word_lines phases into one pass, as write_outer does, so that
    # row-by-row batch writes of large arrays stop streaming the whole array per phase.
    for selected in range(state.shape[0]):
        for phase in range(2):
            polarity = 1.0 if phase == 0 else -1.0
            any_column = False
            for j in range(state.shape[1]):
                any_column = any_column or signs[selected, j] == polarity
            if not any_column:
                pulse_count += 1
                continue
            for i in range(state.shape[0]):
                row_voltages[i] = (0.5 if i == selected else unselected_row) * polarity * v_write
            for j in range(state.shape[1]):
                column_voltages[j] = ((-0.5 if signs[selected, j] == polarity else unselected_column)
                                      * polarity * v_write)
            write_phase(use_threads, n_threads, model, option, state, conductances, device_params,
                        row_voltages, column_voltages, column_voltages, False, duration,
                        noise_std, training_pulse_key(base_key, pulse_count), n_substeps, tables)
            pulse_count += 1
    return pulse_count


def usd_batch_run(int model, int option, floating[:, ::1] state not None,
                  const double[:, :, ::1] device_params not None,
                  const double[::1] table_bins not None, const double[::1] table_cdf not None,
                  const double[:, ::1] table_up not None, const double[:, ::1] table_down not None,
                  const double[:, ::1] inputs not None, const double[:, ::1] targets not None,
                  const int64_t[::1] labels not None, const double[:, ::1] test_inputs not None,
                  const int64_t[::1] test_labels not None,
                  const int64_t[::1] plus_columns not None,
                  const int64_t[::1] minus_columns not None, bint train_minus,
                  double output_scale, int loss, int scheme, double v_write, int polarity,
                  const double[::1] durations not None, double noise_std, uint64_t base_key,
                  uint64_t pulse_count, int n_substeps, int64_t[::1] train_errors not None,
                  int64_t[::1] test_errors not None, int n_threads):
    """Run ``len(durations)`` batch-USD iterations in place; return the next pulse counter.

    Notes
    -----
    The arguments are those of ``fastxbar._training_reference.usd_batch_run``. The caller
    guarantees the shapes listed for :func:`usd_online_epoch`, plus ``labels`` of n_samples
    entries, ``test_inputs`` with n_word_lines columns and ``train_errors`` and
    ``test_errors`` of ``len(durations) + 1`` entries.
    """
    cdef Py_ssize_t t, n_iterations = durations.shape[0]
    cdef Py_ssize_t n_rows = state.shape[0], n_columns = state.shape[1]
    cdef bint use_threads = n_threads > 1 and n_rows * n_columns >= TRAINING_PARALLEL_MIN_DEVICES
    cdef DeviceTables tables = make_tables(table_bins, table_cdf, table_up, table_down)
    cdef double[:, ::1] conductances = _np.empty((n_rows, n_columns))
    cdef double[::1] currents = _np.empty(n_columns)
    cdef double[::1] outputs = _np.empty(plus_columns.shape[0])
    cdef double[:, ::1] gradient = _np.empty((n_rows, plus_columns.shape[0]))
    cdef double[:, ::1] signs = _np.empty((n_rows, n_columns))
    cdef double[::1] row_voltages = _np.empty(n_rows)
    cdef double[::1] column_voltages = _np.empty(n_columns)
    with nogil:
        all_conductances(model, option, state, device_params, conductances)
        for t in range(n_iterations + 1):
            test_errors[t] = count_errors(conductances, test_inputs, test_labels, plus_columns,
                                          minus_columns, output_scale, currents, outputs)
            train_errors[t] = count_errors(conductances, inputs, labels, plus_columns,
                                           minus_columns, output_scale, currents, outputs)
            if t == n_iterations:
                break
            batch_signs(conductances, inputs, targets, plus_columns, minus_columns, train_minus,
                        output_scale, loss, polarity, currents, outputs, gradient, signs)
            pulse_count = write_matrix(use_threads, n_threads, model, option, state, conductances,
                                       device_params, signs, scheme, v_write, durations[t],
                                       noise_std, base_key, pulse_count, n_substeps, &tables,
                                       row_voltages, column_voltages)
    return pulse_count
