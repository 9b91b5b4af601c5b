package dev.recur.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * Status checks for JCuda's driver calls, which return the driver's {@code CUresult} code
 * (JCuda's own exceptions stay off, so that every failure goes through {@link #check} and its
 * message names the call).
 *
 * <p>Nothing here runs in a static initializer: {@link JCudaDriver}'s own static initializer
 * loads JCuda's native library, which needs {@code libcuda.so.1}, so the class is first touched
 * only by {@link CudaProvider#probe()} or by a backend that the probe allowed.
 */
final class CudaDriver {

    /** Whether {@link #unavailableReason()} has run; its answer cannot change within a process. */
    private static boolean checked;
    private static String unavailable;

    private CudaDriver() {
    }

    /**
     * Why the driver cannot be used, or null when {@code libcuda.so.1} and JCuda's natives are
     * loaded. Asked once per process: a failed native load cannot be retried (the JVM then
     * refuses to initialise {@link JCudaDriver} again), so the first answer is kept.
     */
    static synchronized String unavailableReason() {
        if (!checked) {
            unavailable = loadDriver();
            checked = true;
        }
        return unavailable;
    }

    @SuppressWarnings("restricted") // dlopen of libcuda.so.1, only to see whether it is there
    private static String loadDriver() {
        // Ask the system loader for libcuda.so.1 ourselves first: its failure names the missing
        // library plainly, where JCuda's loader would report its own library's link error.
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
        } catch (IllegalArgumentException e) {
            String ld = System.getenv("LD_LIBRARY_PATH");
            return "no NVIDIA driver: libcuda.so.1 not found (" + e.getMessage() + "; LD_LIBRARY_PATH="
                    + (ld == null || ld.isBlank() ? "unset" : ld) + ")";
        } catch (IllegalCallerException e) {
            // Native access is denied to this code (--illegal-native-access=deny); JCuda's own
            // loading below still tells whether the driver is there.
        }
        try {
            // The first use of JCudaDriver loads JCuda's native library, which links libcuda.so.1.
            JCudaDriver.setExceptionsEnabled(false);
            return null;
        } catch (Throwable t) { // UnsatisfiedLinkError, or NoClassDefFoundError after an earlier failure
            String m = String.valueOf(t.getMessage());
            if (m.contains("libcuda")) {
                return "no NVIDIA driver: libcuda.so.1 not found (" + t + ")";
            }
            return "JCuda's native driver binding could not be loaded: " + t;
        }
    }

    /** Throws a {@link CudaException} naming {@code call} unless {@code result} is {@code CUDA_SUCCESS}. */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call, errorName(result), errorString(result));
        }
    }

    /** The driver's name for a status, e.g. {@code CUDA_ERROR_NO_DEVICE}. */
    static String errorName(int result) {
        String[] name = new String[1];
        if (JCudaDriver.cuGetErrorName(result, name) == CUresult.CUDA_SUCCESS && name[0] != null) {
            return name[0];
        }
        return CUresult.stringFor(result);
    }

    /** The driver's description of a status, or null when it has none. */
    static String errorString(int result) {
        String[] text = new String[1];
        if (JCudaDriver.cuGetErrorString(result, text) == CUresult.CUDA_SUCCESS) {
            return text[0];
        }
        return null;
    }
}
