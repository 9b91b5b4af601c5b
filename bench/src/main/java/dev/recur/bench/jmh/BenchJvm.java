package dev.recur.bench.jmh;

/**
 * JVM options of every forked benchmark JVM ({@code @Fork(jvmArgsAppend = ...)}); the same as
 * {@code ./recur bench} passes (see the bench pom's {@code bench.jvmFlags}). Constants, because
 * annotation values must be.
 */
final class BenchJvm {
    /** The Vector API, which the CPU engine and the FMA peak are written in (incubating in JDK 25). */
    static final String VECTOR = "--add-modules=jdk.incubator.vector";
    /** JavaCPP, under ND4J, loads its native libraries with System.load, a restricted method (JEP 472). */
    static final String NATIVE = "--enable-native-access=ALL-UNNAMED";
    /** JavaCPP and ND4J use sun.misc.Unsafe memory access, which JDK 24+ warns about (JEP 498). */
    static final String UNSAFE = "--sun-misc-unsafe-memory-access=allow";
    /** Deep recursion in nothing here, but the test JVMs use the same stack size. */
    static final String STACK = "-Xss4m";

    private BenchJvm() {
    }
}
