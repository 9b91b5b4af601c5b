package dev.recur.api;

/**
 * The answer of a backend's availability probe.
 *
 * @param available whether the backend can run here
 * @param reason    why not, or a short description of what was found when it can
 */
public record Availability(boolean available, String reason) {

    public static Availability yes(String whatWasFound) {
        return new Availability(true, whatWasFound);
    }

    public static Availability no(String why) {
        return new Availability(false, why);
    }
}
