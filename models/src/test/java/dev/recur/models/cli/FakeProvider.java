package dev.recur.models.cli;

import dev.recur.api.Availability;
import dev.recur.api.Backend;
import dev.recur.api.BackendProvider;

/** A provider whose probe answers what the test says; it never creates a backend. */
record FakeProvider(String name, int rank, Availability answer) implements BackendProvider {

    static FakeProvider available(String name, int rank, String what) {
        return new FakeProvider(name, rank, Availability.yes(what));
    }

    static FakeProvider unavailable(String name, int rank, String why) {
        return new FakeProvider(name, rank, Availability.no(why));
    }

    @Override
    public Availability probe() {
        return answer;
    }

    @Override
    public Backend create() {
        throw new UnsupportedOperationException("fake provider " + name + " creates no backend");
    }
}
