package dev.recur.api;

/** One value for each direction of a bidirectional layer. */
public record PerDirection<V>(V forward, V reverse) {

    public V get(Direction d) {
        return d == Direction.FORWARD ? forward : reverse;
    }
}
