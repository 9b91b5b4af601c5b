package dev.recur.mpi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;

/**
 * How one MPI implementation exposes the handles that {@code mpi.h} names as macros, which a
 * binding without the header has to recreate. The C signatures are the same everywhere; the
 * handle types are not:
 * <ul>
 *   <li>Open MPI (4 and 5): {@code MPI_Comm}, {@code MPI_Datatype}, {@code MPI_Op} and
 *       {@code MPI_Errhandler} are pointers, and the predefined ones are the addresses of exported
 *       objects ({@code MPI_COMM_WORLD} is {@code &ompi_mpi_comm_world}); {@code MPI_IN_PLACE}
 *       is {@code (void *) 1}.</li>
 *   <li>MPICH 4 (and the ABI it shares with Intel MPI and MVAPICH): the handles are {@code int}
 *       constants ({@code MPI_COMM_WORLD = 0x44000000}); {@code MPI_IN_PLACE} is {@code (void *) -1}.</li>
 * </ul>
 * A handle is passed to a downcall as the Java value of {@link #handleLayout()}: a
 * {@link MemorySegment} for Open MPI, an {@link Integer} for MPICH.
 */
interface MpiAbi {

    /** The implementation's name, e.g. {@code "Open MPI"}. */
    String family();

    /** The C type of a handle: {@code ADDRESS} or {@code JAVA_INT}. */
    MemoryLayout handleLayout();

    Object commWorld();

    Object floatType();

    Object byteType();

    Object sumOp();

    Object errorsReturn();

    /** {@code MPI_IN_PLACE}. */
    MemorySegment inPlace();

    /** {@code MPI_MAX_ERROR_STRING}. */
    int maxErrorString();

    /** {@code MPI_THREAD_SERIALIZED}: 2 in both families. */
    default int threadSerialized() {
        return 2;
    }

    /** Open MPI: the predefined objects' addresses, from the library's exported symbols. */
    record OpenMpi(MemorySegment commWorld, MemorySegment floatType, MemorySegment byteType, MemorySegment sumOp,
                   MemorySegment errorsReturn) implements MpiAbi {

        /** The symbol whose presence says a library is Open MPI. */
        static final String MARKER = "ompi_mpi_comm_world";

        static OpenMpi bind(SymbolLookup lib) {
            return new OpenMpi(symbol(lib, MARKER), symbol(lib, "ompi_mpi_float"), symbol(lib, "ompi_mpi_byte"),
                    symbol(lib, "ompi_mpi_op_sum"), symbol(lib, "ompi_mpi_errors_return"));
        }

        private static MemorySegment symbol(SymbolLookup lib, String name) {
            return lib.find(name).orElseThrow(() -> new IllegalStateException(
                    "the library exports " + MARKER + " but not " + name + ": not an Open MPI 4/5 libmpi"));
        }

        @Override
        public String family() {
            return "Open MPI";
        }

        @Override
        public MemoryLayout handleLayout() {
            return ValueLayout.ADDRESS;
        }

        @Override
        public MemorySegment inPlace() {
            return MemorySegment.ofAddress(1);
        }

        @Override
        public int maxErrorString() {
            return 256;
        }
    }

    /** MPICH and its ABI: integer handles, the values of MPICH 4's {@code mpi.h}. */
    record Mpich() implements MpiAbi {
        static final int MPI_COMM_WORLD = 0x44000000;
        static final int MPI_FLOAT = 0x4c00040a;
        static final int MPI_BYTE = 0x4c00010d;
        static final int MPI_SUM = 0x58000003;
        static final int MPI_ERRORS_RETURN = 0x54000001;

        @Override
        public String family() {
            return "MPICH";
        }

        @Override
        public MemoryLayout handleLayout() {
            return ValueLayout.JAVA_INT;
        }

        @Override
        public Object commWorld() {
            return MPI_COMM_WORLD;
        }

        @Override
        public Object floatType() {
            return MPI_FLOAT;
        }

        @Override
        public Object byteType() {
            return MPI_BYTE;
        }

        @Override
        public Object sumOp() {
            return MPI_SUM;
        }

        @Override
        public Object errorsReturn() {
            return MPI_ERRORS_RETURN;
        }

        @Override
        public MemorySegment inPlace() {
            return MemorySegment.ofAddress(-1L);
        }

        @Override
        public int maxErrorString() {
            return 512;
        }
    }
}
