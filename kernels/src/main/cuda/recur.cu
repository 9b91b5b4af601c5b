/*
 * recur.cu — the one translation unit nvcc compiles into recur.fatbin (build-kernels.sh): it
 * includes every kernel file, so one nvcc call builds the whole module and CudaKernels loads one
 * CUmodule. Every kernel is `extern "C"`, so its entry name is the name CudaKernels asks for.
 *
 * The GPU engine mirrors engine-cpu one for one (a CPU twin for every kernel, as in llm.c):
 *   cells.cu       GateMath: the fused gate math of each cell, forward and backward
 *                  (bodies in cell_math.cuh, which g++ also compiles for the host twin test)
 *   layers.cu      CpuLayer's helpers: packing rows, states, step outputs, bias/peephole sums
 *   tensors.cu     CpuTensorOps and CpuBackend.firstNonFinite
 *   embedding.cu   CpuTensorOps.embeddingBackwardImpl, deterministic (a stable radix sort)
 *   losses.cu      CpuLossOps
 *   optimizers.cu  CpuOptimizerOps
 *   options.cu     the option path (CellOptions, StepControl): dropout, zoneout, masks, projection
 *                  (bodies in options_math.cuh, host twin src/test/cpp/options_host.cpp)
 *   options_ln.cu  its layer normalisation: one warp per (row, gate block), fixed lane tree
 *   (op_math.cuh holds the dropout generator and the optimizer updates, host twin like
 *   cell_math.cuh; host_device.cuh the macro that lets g++ compile both; recur_common.cuh the
 *   grid-stride loop and the deterministic block reductions)
 *
 * Legend of dimension letters used in the shape comments of every file:
 *   T time steps, B batch (rows running at a step in the gate kernels), I input size,
 *   H hidden units, G gate blocks (1 RNN, 4 LSTM, 3 coupled LSTM and GRU), GH = G*H,
 *   N packed rows (the sum of the sequence lengths; = T*B without padding), n a flat size,
 *   P a fixed number of partial sums.
 *
 * Numerics (see cell_math.cuh and recur_common.cuh): float32 storage and math, float64 for loss
 * and norm sums; accurate expf/tanhf/sqrtf and IEEE division (no --use_fast_math); -fmad=false,
 * so products and sums round one at a time as in Java, and fmaf only where the CPU engine fuses;
 * every reduction has a fixed shape and no floating-point atomics (Note [Deterministic
 * reductions]), so results repeat bit for bit.
 */
#include "cells.cu"
#include "layers.cu"
#include "tensors.cu"
#include "embedding.cu"
#include "losses.cu"
#include "optimizers.cu"
#include "options.cu"
#include "options_ln.cu"
