package dev.unisession.mongoserver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Starts an in-memory MongoDB wire-compatible server (mongo-java-server) for tests.
 *
 * <pre>
 * java -jar mongo-server.jar [port] [--host 127.0.0.1] [--pid-file FILE] [--no-oplog]
 * </pre>
 *
 * Defaults: port 27027, host 127.0.0.1, oplog enabled (needed for change streams).
 * Runs until SIGTERM/SIGINT. All data lives in memory and is lost on exit.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        int port = 27027;
        String host = "127.0.0.1";
        Path pidFile = null;
        boolean oplog = true;
        String h2File = null;

        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--host" -> host = requireValue(args, ++i, arg);
                case "--pid-file" -> pidFile = Path.of(requireValue(args, ++i, arg));
                case "--no-oplog" -> oplog = false;
                case "--h2-file" -> h2File = requireValue(args, ++i, arg);
                case "-h", "--help" -> {
                    System.out.println("usage: mongo-server [port] [--host HOST] [--pid-file FILE] [--no-oplog] [--h2-file FILE]");
                    return;
                }
                default -> {
                    try {
                        port = Integer.parseInt(arg);
                    } catch (NumberFormatException e) {
                        System.err.println("mongo-server: unknown argument: " + arg);
                        System.exit(2);
                    }
                }
            }
        }

        // --h2-file keeps the data in an H2 MVStore file, so it survives a restart.
        MongoBackend backend = h2File != null ? new H2Backend(h2File) : new MemoryBackend();
        MongoServer server = new MongoServer(backend);
        if (oplog) {
            server.enableOplog();
        }
        server.bind(host, port);

        if (pidFile != null) {
            writePidFile(pidFile);
        }

        CountDownLatch stopped = new CountDownLatch(1);
        final Path pidFileFinal = pidFile;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.shutdownNow();
            } finally {
                if (pidFileFinal != null) {
                    try {
                        Files.deleteIfExists(pidFileFinal);
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
                stopped.countDown();
            }
        }, "mongo-server-shutdown"));

        System.out.println("mongo-server (mongo-java-server, in-memory" + (oplog ? ", oplog" : "")
            + ") listening on " + host + ":" + port + " pid " + ProcessHandle.current().pid());
        System.out.flush();

        stopped.await();
    }

    private static String requireValue(String[] args, int i, String flag) {
        if (i >= args.length) {
            System.err.println("mongo-server: " + flag + " requires a value");
            System.exit(2);
        }
        return args[i];
    }

    private static void writePidFile(Path pidFile) throws IOException {
        Path parent = pidFile.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = pidFile.resolveSibling(pidFile.getFileName() + ".tmp");
        Files.writeString(tmp, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, pidFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
