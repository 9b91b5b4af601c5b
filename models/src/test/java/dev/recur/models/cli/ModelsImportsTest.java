package dev.recur.models.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DESIGN.md: models imports engine-api only; engines are found at run time. */
class ModelsImportsTest {

    private static final Pattern RECUR_IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?(dev\\.recur\\.[\\w.]+)", Pattern.MULTILINE);

    @Test
    void mainSourcesImportNoEngineClasses() throws IOException {
        Path main = Path.of("src/main/java"); // surefire runs in the module's folder
        assertTrue(Files.isDirectory(main), "run from the models module folder: " + main.toAbsolutePath());
        List<String> bad = new ArrayList<>();
        int files = 0;
        try (Stream<Path> paths = Files.walk(main)) {
            for (Path p : paths.filter(f -> f.toString().endsWith(".java")).toList()) {
                files++;
                Matcher m = RECUR_IMPORT.matcher(Files.readString(p));
                while (m.find()) {
                    String imported = m.group(1);
                    if (!imported.startsWith("dev.recur.api.") && !imported.startsWith("dev.recur.models.")) {
                        bad.add(main.relativize(p) + ": " + imported);
                    }
                }
            }
        }
        assertTrue(files > 0, "no sources found under " + main.toAbsolutePath());
        assertEquals(List.of(), bad);
    }
}
