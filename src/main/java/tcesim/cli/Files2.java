package tcesim.cli;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * The files the commands read and write, checked with messages a user can act on: "no such file", "is a
 * directory", "not a text (UTF-8) file" rather than the JDK's exception texts. Output locations are checked
 * before any work starts, so a long run does not end in an error about where to put its result.
 */
final class Files2 {
    private Files2() {}

    /** Why {@code e} happened, in words, starting with the file it is about (when it names one). */
    static String describe(IOException e) {
        if (e instanceof CharacterCodingException) return "not a text (UTF-8) file";
        if (e instanceof FileSystemException f) {
            String file = f.getFile() == null ? "" : f.getFile() + ": ";
            if (f instanceof NoSuchFileException) return file + "no such file or directory";
            if (f instanceof AccessDeniedException) return file + "permission denied";
            if (f instanceof FileAlreadyExistsException) return file + "exists and is not a directory";
            if (f instanceof NotDirectoryException) return file + "not a directory";
            return file + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName());
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * A text file's contents, strictly UTF-8.
     *
     * @throws IllegalArgumentException with "FILE: what is wrong" when it cannot be read as text
     */
    static String readText(Path file) {
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + ": is a directory, not a file");
        if (!Files.exists(file)) throw new IllegalArgumentException(file + ": no such file");
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not a text (UTF-8) file");
        } catch (IOException e) {
            String why = describe(e);
            throw new IllegalArgumentException(why.startsWith(file.toString()) ? why : file + ": cannot read: " + why);
        }
    }

    /**
     * A text file's contents, strictly UTF-8, of at most {@code maxBytes} bytes: a larger file (or an endless one, a
     * device) is refused after reading {@code maxBytes + 1} bytes, naming {@code what} it was meant to be.
     *
     * @throws IllegalArgumentException with "FILE: what is wrong"
     */
    static String readText(Path file, int maxBytes, String what) {
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + ": is a directory, not a file");
        if (!Files.exists(file)) throw new IllegalArgumentException(file + ": no such file");
        byte[] bytes;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(maxBytes + 1);
        } catch (IOException e) {
            String why = describe(e);
            throw new IllegalArgumentException(why.startsWith(file.toString()) ? why : file + ": cannot read: " + why);
        }
        if (bytes.length > maxBytes) {
            throw new IllegalArgumentException(file + ": more than " + (maxBytes >> 10) + " KiB: too large for " + what);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not a text (UTF-8) file");
        }
    }

    /**
     * Makes sure {@code dir} is a directory the command can write {@code name} into, creating it if needed.
     *
     * @throws IllegalArgumentException with "FLAG DIR: what is wrong"
     */
    static void outputDir(String flag, Path dir, String name) {
        String what = flag + " " + dir + ": ";
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException(what + "exists and is not a directory");
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".tcesim-", ".probe");
            Files.delete(probe);
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalArgumentException(what + "cannot write there: " + (e instanceof IOException io ? describe(io) : e.getMessage()));
        }
        if (Files.isDirectory(dir.resolve(name))) throw new IllegalArgumentException(what + dir.resolve(name) + " is a directory");
        if (Files.exists(dir.resolve(name)) && !Files.isRegularFile(dir.resolve(name))) {
            throw new IllegalArgumentException(what + dir.resolve(name) + " exists and is not a regular file");
        }
    }

    /**
     * Writes {@code text} to {@code file} whole or not at all: into a temporary file beside it, then moved over it; on
     * any failure the temporary file is removed and {@code file} is as it was.
     */
    static void writeWhole(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName() + "-", ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * Makes sure {@code file} can be written (and replaced) by the command: not a directory, in a directory that
     * exists and is writable.
     *
     * @throws IllegalArgumentException with "FLAG FILE: what is wrong"
     */
    static void outputFile(String flag, Path file) {
        String what = flag + " " + file + ": ";
        if (Files.isDirectory(file)) throw new IllegalArgumentException(what + "is a directory; give a file name");
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new IllegalArgumentException(what + "exists and is not a regular file (a device, a pipe?); give a new file name or a regular file");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new IllegalArgumentException(what + "the directory " + parent + " does not exist");
        if (Files.exists(file) && !Files.isWritable(file)) throw new IllegalArgumentException(what + "permission denied");
        try {
            Path probe = Files.createTempFile(parent, ".tcesim-", ".probe");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + "cannot write in " + parent + ": " + describe(e));
        }
    }
}
