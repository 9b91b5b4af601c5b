package dev.recur.cuda;

import jcuda.driver.CUdevice;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;

/**
 * What the driver says about one device, for reports and for choices that depend on the chip
 * (the cuBLAS workspace size). Read without a context, after {@code cuInit}.
 *
 * @param ordinal        the device number ({@code CUDA_VISIBLE_DEVICES} applies)
 * @param name           e.g. {@code NVIDIA H100 80GB HBM3}
 * @param major          compute capability, major (9 for sm_90)
 * @param minor          compute capability, minor
 * @param multiprocessors number of SMs
 * @param totalBytes     device memory
 * @param driverVersion  the CUDA version the driver supports, as 1000·major + 10·minor (13000 for 13.0)
 */
record DeviceInfo(int ordinal, String name, int major, int minor, int multiprocessors, long totalBytes,
                  int driverVersion) {

    private static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    /** Asks the driver about device {@code ordinal}; {@code cuInit} must have succeeded. */
    static DeviceInfo query(int ordinal) {
        CUdevice device = device(ordinal);
        byte[] raw = new byte[256];
        CudaDriver.check(cuDeviceGetName(raw, raw.length, device), "cuDeviceGetName(" + ordinal + ")");
        int end = 0;
        while (end < raw.length && raw[end] != 0) {
            end++;
        }
        long[] total = new long[1];
        CudaDriver.check(cuDeviceTotalMem(total, device), "cuDeviceTotalMem(" + ordinal + ")");
        int[] version = new int[1];
        CudaDriver.check(cuDriverGetVersion(version), "cuDriverGetVersion");
        return new DeviceInfo(ordinal, new String(raw, 0, end, StandardCharsets.UTF_8),
                attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability major"),
                attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability minor"),
                attribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "multiprocessor count"),
                total[0], version[0]);
    }

    static CUdevice device(int ordinal) {
        CUdevice device = new CUdevice();
        CudaDriver.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        return device;
    }

    private static int attribute(CUdevice device, int attribute, String what) {
        int[] v = new int[1];
        CudaDriver.check(cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute(" + what + ")");
        return v[0];
    }

    /** {@code sm_90} for compute capability 9.0. */
    String smName() {
        return "sm_" + major + minor;
    }

    /** The driver's CUDA version as {@code 13.0}. */
    String driverCudaVersion() {
        return driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }

    /** One line for reports: {@code NVIDIA H100 80GB HBM3 (device 0, sm_90, 132 SMs, 79.2 GiB; driver CUDA 13.0)}. */
    String describe() {
        return String.format(Locale.ROOT, "%s (device %d, %s, %d SMs, %.1f GiB; driver CUDA %s)", name, ordinal,
                smName(), multiprocessors, totalBytes / (double) (1L << 30), driverCudaVersion());
    }
}
