package dev.recur.models.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptionsTest {

    private static final Options.Declaration DECL = Options.declare().flag("--verbose").value("--hidden").value("--data");

    @Test
    void parsesFlagsValuesBothFormsAndPositionals() {
        Options o = DECL.parse(List.of("corpus.txt", "--verbose", "--hidden", "512", "--data=a=b", "more"));
        assertTrue(o.has("--verbose"));
        assertEquals(512, o.intValue("--hidden", 7));
        assertEquals("a=b", o.string("--data", null));
        assertEquals(List.of("corpus.txt", "more"), o.positional());
    }

    @Test
    void absentOptionsGiveTheFallback() {
        Options o = DECL.parse(List.of());
        assertFalse(o.has("--verbose"));
        assertEquals(7, o.intValue("--hidden", 7));
        assertEquals("x", o.string("--data", "x"));
    }

    @Test
    void doubleDashEndsOptions() {
        Options o = DECL.parse(List.of("--", "--verbose", "-"));
        assertFalse(o.has("--verbose"));
        assertEquals(List.of("--verbose", "-"), o.positional());
    }

    @Test
    void everyProblemNamesTheArgument() {
        assertEquals("unknown option '--bogus'",
                assertThrows(UsageException.class, () -> DECL.parse(List.of("--bogus=3"))).getMessage());
        assertEquals("option '--hidden' needs a value",
                assertThrows(UsageException.class, () -> DECL.parse(List.of("--hidden"))).getMessage());
        assertEquals("option '--verbose' takes no value, got 'yes'",
                assertThrows(UsageException.class, () -> DECL.parse(List.of("--verbose=yes"))).getMessage());
        assertEquals("option '--hidden' given twice",
                assertThrows(UsageException.class, () -> DECL.parse(List.of("--hidden=1", "--hidden", "2"))).getMessage());
        Options o = DECL.parse(List.of("--hidden", "big"));
        assertEquals("option '--hidden' needs an integer, got 'big'",
                assertThrows(UsageException.class, () -> o.intValue("--hidden", 1)).getMessage());
        assertEquals("unexpected argument 'x'",
                assertThrows(UsageException.class, () -> DECL.parse(List.of("x")).noPositional()).getMessage());
    }

    @Test
    void badDeclarationsAreProgrammingErrors() {
        assertThrows(IllegalArgumentException.class, () -> Options.declare().flag("verbose"));
        assertThrows(IllegalArgumentException.class, () -> Options.declare().flag("--a").value("--a"));
    }
}
