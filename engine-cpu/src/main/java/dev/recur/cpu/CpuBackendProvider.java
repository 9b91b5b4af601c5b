package dev.recur.cpu;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.BackendProvider;

/** Registers the CPU engine (rank 100: used when no GPU engine is available). */
public final class CpuBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return CpuBackend.NAME;
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Availability probe() {
        try {
            int threads = CpuBackend.defaultThreads();
            return Availability.yes("pure Java, " + threads + " thread" + (threads == 1 ? "" : "s") + ", "
                    + System.getProperty("os.arch"));
        } catch (IllegalArgumentException e) {
            return Availability.no(e.getMessage());
        }
    }

    @Override
    public Backend create() {
        return new CpuBackend(CpuBackend.defaultThreads());
    }
}
