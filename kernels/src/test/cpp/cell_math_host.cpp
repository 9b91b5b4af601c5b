// cell_math_host.cpp — the host twin of the kernels' element math: the element functions of
// ../../main/cuda/cell_math.cuh and op_math.cuh (the same code the kernels of cells.cu,
// tensors.cu and optimizers.cu run), compiled by g++ and looped over every element exactly as
// the kernels' grid-stride loops do. CellMathHostTwinTest (kernels/src/test/java) feeds it random
// inputs and compares its outputs with engine-cpu.
//
// Protocol on stdin/stdout, binary, little-endian, one request after another until EOF:
//   request:  int32 method, flag, rows, off, hs;
//             int32 nFloats, float32[nFloats]   the kernel's float scalars, in its order
//             int32 nLongs, int64[nLongs]       its 64-bit integer scalars
//             int32 nArrays, then nArrays times (int32 length, float32[length]): its pointer
//             parameters, in its order; length 0 stands for a null pointer
//   response: the arrays after the call, as (int32 length, float32[length])
// The cell methods loop over rows x hs elements; the ops over `rows` elements. The masked softmax
// methods loop over `rows` rows of hs columns with off rows per block, and their first array holds
// the block lengths as floats (small integers, exact), turned into the int array the kernel reads.
#include "../../main/cuda/cell_math.cuh"
#include "../../main/cuda/op_math.cuh"

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
    DROPOUT = 10,
    SGD = 11,
    RMSPROP = 12,
    ADAM = 13,
    MASKED_SOFTMAX = 14,
    MASKED_SOFTMAX_BACKWARD = 15,
    TANH = 16,
    TANH_BACKWARD = 17,
};

// Per method: arrays, float scalars, long scalars.
const int kArrays[] = {4, 3, 8, 7, 6, 6, 5, 5, 4, 5, 3, 3, 3, 4, 3, 4, 2, 3};
const int kFloats[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 4, 7, 0, 0, 0, 0};
const int kLongs[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};

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

int32_t read_int() {
    int32_t v;
    if (!read_all(&v, sizeof v)) fail("truncated request", 0);
    return v;
}

}  // namespace

int main() {
    int32_t header[5];
    while (read_all(header, sizeof header)) {
        int method = header[0], flag = header[1], rows = header[2], off = header[3], hs = header[4];
        if (method < 0 || method > TANH_BACKWARD) fail("unknown method", method);
        std::vector<float> f(read_int());
        if ((int) f.size() != kFloats[method]) fail("wrong float scalar count", (int) f.size());
        if (!f.empty() && !read_all(f.data(), sizeof(float) * f.size())) fail("short float scalars", method);
        std::vector<int64_t> l(read_int());
        if ((int) l.size() != kLongs[method]) fail("wrong long scalar count", (int) l.size());
        if (!l.empty() && !read_all(l.data(), sizeof(int64_t) * l.size())) fail("short long scalars", method);
        int count = read_int();
        if (count != kArrays[method]) fail("wrong array count", count);
        std::vector<std::vector<float>> a(count);
        for (int k = 0; k < count; k++) {
            int32_t len = read_int();
            if (len < 0) fail("bad array length", k);
            a[k].resize(len);
            if (len > 0 && !read_all(a[k].data(), sizeof(float) * len)) fail("short array", k);
        }
        auto p = [&](int k) { return a[k].empty() ? nullptr : a[k].data(); };
        if (method == MASKED_SOFTMAX || method == MASKED_SOFTMAX_BACKWARD) {
            std::vector<int> lengths(a[0].begin(), a[0].end());
            for (unsigned row = 0; row < (unsigned) rows; row++) {
                if (method == MASKED_SOFTMAX) {
                    recur_masked_softmax_row(row, off, hs, lengths.data(), p(1), p(2));
                } else {
                    recur_masked_softmax_backward_row(row, off, hs, lengths.data(), p(1), p(2), p(3));
                }
            }
        } else if (method >= DROPOUT) {
            for (unsigned i = 0; i < (unsigned) rows; i++) {
                switch (method) {
                    case DROPOUT: recur_dropout_element(i, f[0], l[0], l[1], p(0), p(1), p(2)); break;
                    case SGD: recur_sgd_element(i, f[0], f[1], f[2], flag, p(0), p(1), p(2)); break;
                    case RMSPROP: recur_rmsprop_element(i, f[0], f[1], f[2], f[3], p(0), p(1), p(2)); break;
                    case ADAM:
                        recur_adam_element(i, f[0], f[1], f[2], f[3], f[4], flag, f[5], f[6], p(0), p(1), p(2), p(3));
                        break;
                    case TANH: recur_tanh_element(i, p(0), p(1)); break;
                    case TANH_BACKWARD: recur_tanh_backward_element(i, p(0), p(1), p(2)); break;
                }
            }
        }
        for (int j = 0; method < DROPOUT && j < rows; j++) {
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
