package dev.recur.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strict parser for the one-line flat JSON objects {@code recur bench} prints: string keys,
 * values that are strings (no escapes needed here), numbers, true, false or null. Anything else,
 * nesting included, is an error, so a malformed line fails the test that reads it.
 */
final class FlatJson {

    private final String s;
    private int i;

    private FlatJson(String s) {
        this.s = s;
    }

    /** The fields in order: String, Double, Boolean or null values. */
    static Map<String, Object> parse(String line) {
        FlatJson p = new FlatJson(line);
        Map<String, Object> out = p.object();
        if (p.i != line.length()) {
            throw p.error("text after the object");
        }
        return out;
    }

    private Map<String, Object> object() {
        expect('{');
        Map<String, Object> fields = new LinkedHashMap<>();
        if (peek() == '}') {
            i++;
            return fields;
        }
        while (true) {
            String key = string();
            expect(':');
            if (fields.put(key, value()) != null) {
                throw error("duplicate key " + key);
            }
            char c = next();
            if (c == '}') {
                return fields;
            }
            if (c != ',') {
                throw error("expected ',' or '}'");
            }
        }
    }

    private Object value() {
        char c = peek();
        if (c == '"') {
            return string();
        }
        for (String word : new String[] {"true", "false", "null"}) {
            if (s.startsWith(word, i)) {
                i += word.length();
                return word.equals("null") ? null : Boolean.valueOf(word);
            }
        }
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        String number = s.substring(start, i);
        if (!number.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
            throw error("not a JSON value: '" + number + "'");
        }
        return Double.valueOf(number);
    }

    private String string() {
        expect('"');
        int start = i;
        while (i < s.length() && s.charAt(i) != '"') {
            if (s.charAt(i) == '\\' || s.charAt(i) < 0x20) {
                throw error("escapes are not expected here");
            }
            i++;
        }
        String v = s.substring(start, i);
        expect('"');
        return v;
    }

    private void expect(char c) {
        if (next() != c) {
            throw error("expected '" + c + "'");
        }
    }

    private char next() {
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        return s.charAt(i++);
    }

    private char peek() {
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        return s.charAt(i);
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at " + i + " in: " + s);
    }
}
