package dev.recur.cuda;

import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import dev.recur.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CPU engine's option path (engine-cpu's CpuOptionLayer) against the float64 oracle of the
 * contract ({@link dev.recur.cpu.OptionsOracle}), on exactly the calls {@link CudaOptionLayerTest}
 * gives the GPU (H = 33, B = 1, T = 1, masks, lengths, bidirectional), through {@link OptionProblem}:
 * the oracle that {@link SimulatedOptionLayerTest} holds the CUDA option path against, so the CUDA
 * engine and the CPU engine agree through it on these calls even where no GPU is. Runs anywhere.
 * Tolerances: {@link OptionProblem}.
 */
class CpuOptionPathAgreesTest {

    private static CpuBackend cpu;

    @BeforeAll
    static void start() {
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        cpu.close();
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void cpuOptionPathMatchesTheOracle(Cell cell) {
        for (int i = 0; i < CudaOptionLayerTest.SHAPES.size(); i++) {
            OptionProblem.Shape s = CudaOptionLayerTest.SHAPES.get(i);
            // The H = 33 shape only bidirectionally (both directions, and the central differences there are the
            // slow part); the small ones in each direction.
            Direction[] dirs = i == 0 ? new Direction[] {null}
                    : new Direction[] {Direction.FORWARD, Direction.REVERSE, null};
            for (Direction dir : dirs) {
                CellOptions o = CudaOptionLayerTest.options(cell, s, i % 2 == 0);
                OptionProblem p = new OptionProblem(cell, o, s, dir, 31L * i + cell.ordinal());
                p.checkAgainstOracle(p.run(cpu));
            }
        }
    }
}
