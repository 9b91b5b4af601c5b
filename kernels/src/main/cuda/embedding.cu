/*
 * embedding.cu — CpuTensorOps.embeddingBackwardImpl without floating-point atomics:
 * dTable[ids[i], :] += dOut[i, :], each row's terms added in ascending i, exactly as the CPU
 * engine adds them (so the result is the CPU's bit for bit, and repeatable). Part of recur.cu.
 *
 * Legend (T, B, I, H, G, N as in recur.cu): n positions (ids; T*B for a [T, B] batch), V vocabulary, E embedding width, K = RECUR_SORT_TILE positions per
 * tile, Tl = ceil(n / K) tiles, D = 256 digit values.
 *
 * How: a stable sort of the positions by id, then one block per run of equal ids adds that
 * run's rows in order. The sort is an LSD radix sort on 8-bit digits, each pass three kernels:
 *   embeddingBackwardCounts   per tile, a count of each digit        -> counts [D, Tl]
 *   embeddingBackwardOffsets  one exclusive scan of counts, digit-major, in place
 *   embeddingBackwardScatter  per tile, in position order, each key to the next slot of its digit
 * A tile is walked in order by one thread and tiles are laid out in order within each digit, so
 * every pass is stable, and nothing depends on scheduling. Invalid ids (outside [0, V)) become
 * the key V, sort last and are skipped; their smallest position is reported in error[0].
 *
 * Cost: ceil(bits(V) / 8) passes (1 for V < 256, 2 for V < 65536); each pass reads and writes
 * the n keys and values once plus the D * Tl = 8n counts (the scan runs in one block, so it is the
 * slow part: about 8n integers through one SM). The final sum reads dOut once; a run of m equal
 * ids is added by one thread per column in m sequential steps, so one very frequent id (a
 * padding token) makes that block the long pole. Scratch: 4n + D*Tl ints (embeddingBackwardScratch
 * in CudaKernels). Counts and Scatter run in blocks of exactly 32 threads, Offsets in one block
 * of exactly 1024 (__launch_bounds__, checked against CudaKernels by KernelSignatureTest).
 */
#include "recur_common.cuh"

#define RECUR_SORT_TILE 32
#define RECUR_SORT_DIGITS 256
#define RECUR_SORT_THREADS 32   /* tiles per block of Counts and Scatter: 32 KB of shared counters */
#define RECUR_SCAN_THREADS 1024

/** Start of the sort: keys[i] = ids[i] (or V when invalid), vals[i] = i. */
extern "C" __global__ void embeddingBackwardKeys(int n, int vocab,
                                                 const int* __restrict__ ids,  // [n]
                                                 int* __restrict__ keys,       // [n]
                                                 int* __restrict__ vals,       // [n]
                                                 int* __restrict__ error) {    // [1] or null
    for (unsigned i = recur_first(); i < (unsigned) n; i += recur_stride()) {
        int id = ids[i];
        bool valid = id >= 0 && id < vocab;
        if (!valid) {
            recur_report(error, (int) i);
        }
        keys[i] = valid ? id : vocab;
        vals[i] = (int) i;
    }
}

/** One pass, step 1: counts[d, t] = how many keys of tile t have digit d at bit `shift`. */
extern "C" __global__ void __launch_bounds__(RECUR_SORT_THREADS) embeddingBackwardCounts(int n, int shift,
                                                   const int* __restrict__ keys,  // [n]
                                                   int* __restrict__ counts) {    // [D, Tl]
    // Each thread counts in its own column of shared memory: column = lane, so the 32 threads
    // of the warp hit 32 different banks.
    __shared__ int hist[RECUR_SORT_DIGITS][RECUR_SORT_THREADS];
    unsigned lane = threadIdx.x;
    unsigned tiles = ((unsigned) n + RECUR_SORT_TILE - 1) / RECUR_SORT_TILE;
    unsigned t = blockIdx.x * RECUR_SORT_THREADS + lane;
    for (int d = 0; d < RECUR_SORT_DIGITS; d++) {
        hist[d][lane] = 0;
    }
    if (t < tiles) {
        unsigned end = min((t + 1) * RECUR_SORT_TILE, (unsigned) n);
        for (unsigned i = t * RECUR_SORT_TILE; i < end; i++) {
            hist[((unsigned) keys[i] >> shift) & (RECUR_SORT_DIGITS - 1)][lane]++;
        }
        for (int d = 0; d < RECUR_SORT_DIGITS; d++) {
            counts[(size_t) d * tiles + t] = hist[d][lane];
        }
    }
}

/**
 * One pass, step 2, one block of RECUR_SCAN_THREADS: the exclusive prefix sum of counts in place
 * (digit-major, so digit d's slots follow digit d-1's and, within a digit, tile t's follow tile
 * t-1's). Each thread scans one contiguous chunk; the chunks' totals are scanned in shared memory.
 */
extern "C" __global__ void __launch_bounds__(RECUR_SCAN_THREADS) embeddingBackwardOffsets(int total,
                                                    int* __restrict__ counts) {  // [D * Tl]
    __shared__ int chunkStart[RECUR_SCAN_THREADS];
    unsigned t = threadIdx.x;
    unsigned chunk = ((unsigned) total + RECUR_SCAN_THREADS - 1) / RECUR_SCAN_THREADS;
    unsigned begin = min(t * chunk, (unsigned) total);
    unsigned end = min(begin + chunk, (unsigned) total);
    int sum = 0;
    for (unsigned i = begin; i < end; i++) {
        sum += counts[i];
    }
    chunkStart[t] = sum;
    __syncthreads();
    // Hillis-Steele inclusive scan of the chunk sums (exact integers: the order does not matter).
    for (unsigned step = 1; step < RECUR_SCAN_THREADS; step <<= 1) {
        int add = t >= step ? chunkStart[t - step] : 0;
        __syncthreads();
        chunkStart[t] += add;
        __syncthreads();
    }
    int running = chunkStart[t] - sum;   // exclusive
    for (unsigned i = begin; i < end; i++) {
        int c = counts[i];
        counts[i] = running;
        running += c;
    }
}

/** One pass, step 3: each tile, in position order, moves its keys and values to their slots. */
extern "C" __global__ void __launch_bounds__(RECUR_SORT_THREADS) embeddingBackwardScatter(int n, int shift,
                                                    const int* __restrict__ keysIn,   // [n]
                                                    const int* __restrict__ valsIn,   // [n]
                                                    const int* __restrict__ offsets,  // [D, Tl]
                                                    int* __restrict__ keysOut,        // [n]
                                                    int* __restrict__ valsOut) {      // [n]
    __shared__ int next[RECUR_SORT_DIGITS][RECUR_SORT_THREADS];
    unsigned lane = threadIdx.x;
    unsigned tiles = ((unsigned) n + RECUR_SORT_TILE - 1) / RECUR_SORT_TILE;
    unsigned t = blockIdx.x * RECUR_SORT_THREADS + lane;
    if (t >= tiles) {
        return;   // no __syncthreads below: each thread works alone
    }
    for (int d = 0; d < RECUR_SORT_DIGITS; d++) {
        next[d][lane] = offsets[(size_t) d * tiles + t];
    }
    unsigned end = min((t + 1) * RECUR_SORT_TILE, (unsigned) n);
    for (unsigned i = t * RECUR_SORT_TILE; i < end; i++) {
        int key = keysIn[i];
        int slot = next[((unsigned) key >> shift) & (RECUR_SORT_DIGITS - 1)][lane]++;
        keysOut[slot] = key;
        valsOut[slot] = valsIn[i];
    }
}

/**
 * The sum: for every run of equal valid keys in the sorted order (starting at a k whose key
 * differs from key k-1), dTable[key, e] += dOut[vals[m], e] for m along the run, in order (the
 * run's positions ascend, the sort being stable). One block per sorted position (blocks whose
 * position starts no run return at once), threads over the E columns.
 */
extern "C" __global__ void embeddingBackward(int n, int vocab, int dim,
                                             const int* __restrict__ keys,    // [n]  sorted ids
                                             const int* __restrict__ vals,    // [n]  their positions
                                             const float* __restrict__ dOut,  // [n, E]
                                             float* __restrict__ dTable) {    // [V, E]
    for (unsigned k = blockIdx.x; k < (unsigned) n; k += gridDim.x) {
        int key = keys[k];
        if (key >= vocab || (k > 0 && keys[k - 1] == key)) {
            continue;
        }
        for (unsigned e = threadIdx.x; e < (unsigned) dim; e += blockDim.x) {
            size_t at = (size_t) key * dim + e;
            float acc = dTable[at];
            for (unsigned m = k; m < (unsigned) n && keys[m] == key; m++) {
                acc = acc + dOut[(size_t) vals[m] * dim + e];
            }
            dTable[at] = acc;
        }
    }
}
