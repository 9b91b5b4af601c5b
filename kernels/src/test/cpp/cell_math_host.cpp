// cell_math_host.cpp — the host twin of the gate kernels: the element functions of
// ../../main/cuda/cell_math.cuh (the same code the kernels of cells.cu run), compiled by g++ and
// looped over every (row, unit) of a step, as the kernels' grid-stride loops do. CellMathHostTwinTest
// (kernels/src/test/java) feeds it random inputs and compares its outputs with engine-cpu's
// GateMath.
//
// Protocol on stdin/stdout, binary, little-endian, one request after another until EOF:
//   request:  int32 method, rows, off, hs, flag, arrayCount; then arrayCount times
//             (int32 length, float32[length]); length 0 stands for a null pointer (no peepholes)
//   response: the same arrays, after the call, as (int32 length, float32[length])
// The arrays are the kernel's pointer parameters, in its order (see cells.cu).
#include "../../main/cuda/cell_math.cuh"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

enum Method {
    RNN_FORWARD = 0,
    RNN_BACKWARD = 1,
    LSTM_FORWARD = 2,
    LSTM_BACKWARD = 3,
    GRU_FORWARD = 4,
    GRU_BACKWARD = 5,
    GRU_ORIGINAL_GATES = 6,
    GRU_ORIGINAL_OUTPUT = 7,
    GRU_ORIGINAL_BACKWARD_OUTPUT = 8,
    GRU_ORIGINAL_BACKWARD_GATES = 9,
};

const int kArrays[] = {4, 3, 8, 7, 6, 6, 5, 5, 4, 5};

bool read_all(void* p, size_t bytes) {
    return fread(p, 1, bytes, stdin) == bytes;
}

void write_all(const void* p, size_t bytes) {
    if (fwrite(p, 1, bytes, stdout) != bytes) {
        fprintf(stderr, "cell_math_host: short write\n");
        exit(2);
    }
}

[[noreturn]] void fail(const char* what, int value) {
    fprintf(stderr, "cell_math_host: %s (%d)\n", what, value);
    exit(2);
}

}  // namespace

int main() {
    int32_t header[6];
    while (read_all(header, sizeof header)) {
        int method = header[0], rows = header[1], off = header[2], hs = header[3], flag = header[4];
        int count = header[5];
        if (method < 0 || method > 9) fail("unknown method", method);
        if (count != kArrays[method]) fail("wrong array count", count);
        std::vector<std::vector<float>> a(count);
        for (int k = 0; k < count; k++) {
            int32_t len;
            if (!read_all(&len, sizeof len) || len < 0) fail("bad array length", k);
            a[k].resize(len);
            if (len > 0 && !read_all(a[k].data(), sizeof(float) * len)) fail("short array", k);
        }
        auto p = [&](int k) { return a[k].empty() ? nullptr : a[k].data(); };
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                switch (method) {
                    case RNN_FORWARD: recur_rnn_forward_element(j, u, off, hs, flag, p(0), p(1), p(2), p(3)); break;
                    case RNN_BACKWARD: recur_rnn_backward_element(j, u, off, hs, flag, p(0), p(1), p(2)); break;
                    case LSTM_FORWARD:
                        recur_lstm_forward_element(j, u, off, hs, flag, p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7));
                        break;
                    case LSTM_BACKWARD:
                        recur_lstm_backward_element(j, u, off, hs, flag, p(0), p(1), p(2), p(3), p(4), p(5), p(6));
                        break;
                    case GRU_FORWARD: recur_gru_forward_element(j, u, off, hs, p(0), p(1), p(2), p(3), p(4), p(5)); break;
                    case GRU_BACKWARD: recur_gru_backward_element(j, u, off, hs, p(0), p(1), p(2), p(3), p(4), p(5)); break;
                    case GRU_ORIGINAL_GATES:
                        recur_gru_original_gates_element(j, u, off, hs, p(0), p(1), p(2), p(3), p(4));
                        break;
                    case GRU_ORIGINAL_OUTPUT:
                        recur_gru_original_output_element(j, u, off, hs, p(0), p(1), p(2), p(3), p(4));
                        break;
                    case GRU_ORIGINAL_BACKWARD_OUTPUT:
                        recur_gru_original_backward_output_element(j, u, off, hs, p(0), p(1), p(2), p(3));
                        break;
                    case GRU_ORIGINAL_BACKWARD_GATES:
                        recur_gru_original_backward_gates_element(j, u, off, hs, p(0), p(1), p(2), p(3), p(4));
                        break;
                }
            }
        }
        for (int k = 0; k < count; k++) {
            int32_t len = (int32_t) a[k].size();
            write_all(&len, sizeof len);
            write_all(a[k].data(), sizeof(float) * len);
        }
        fflush(stdout);
    }
    return 0;
}
