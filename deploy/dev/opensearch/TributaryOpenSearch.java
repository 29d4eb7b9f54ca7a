/*
 * One OpenSearch node for development and tests, started by local-opensearch.ts.
 *
 *   java -cp <classpath of pom.xml>:<dir of this class> TributaryOpenSearch \
 *        --base DIR --http-port P --node-name N --cluster-name C --log-config FILE \
 *        [--plugin-types CLASS,...]
 *
 * --plugin-types: plugin classes on the classpath to load besides the
 * runner's modules (the secured mode passes the security plugin's). Their
 * settings come from config/opensearch.yml, which the caller writes.
 *
 * Why not OpenSearchRunner.main: it exits 1 without a word on any failure,
 * starts three nodes unless told otherwise, forms a cluster by zen discovery,
 * silently moves to the next HTTP port when one is taken, and fails (silently)
 * for any base port above 9298, its default port ceiling being 9299. Here the
 * runner only lays out the node's home and builds the node (its module list,
 * its Node subclass); every setting that matters is ours, a failure prints its
 * stack trace and exits 1, and the port actually bound is printed so the
 * caller can check it.
 *
 * The one line on stdout the caller reads:
 *   TRIBUTARY_OPENSEARCH_HTTP_PORT=<port>   the node has started and serves HTTP there
 *
 * SIGTERM closes the node (flushes, releases the data dir lock) and exits.
 */

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.codelibs.opensearch.runner.OpenSearchRunner;
import org.opensearch.Version;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.Node;

public final class TributaryOpenSearch {
  // OpenSearch's LogConfigurator replaces System.out and System.err with
  // streams into its "stdout"/"stderr" loggers; the ready line and a failure's
  // stack trace must reach the real ones, unprefixed.
  private static final PrintStream STDOUT = System.out;
  private static final PrintStream STDERR = System.err;

  private TributaryOpenSearch() {}

  public static void main(String[] args) {
    // Threads of the node report fatal errors here; without a handler a dead
    // thread would leave a half-working server. Like OpenSearch's own handler,
    // an Error (not an Exception) halts the JVM so the caller sees it exit.
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, error) -> {
          STDERR.println("uncaught in thread " + thread.getName() + ":");
          error.printStackTrace(STDERR);
          if (error instanceof Error) Runtime.getRuntime().halt(1);
        });
    try {
      run(parse(args));
    } catch (Throwable error) {
      STDERR.println("TributaryOpenSearch: OpenSearch " + Version.CURRENT + " failed to start:");
      error.printStackTrace(STDERR);
      // The caller keeps only the tail of the output: end with the whole cause
      // chain in one line, so the reason survives a long stack trace.
      StringBuilder causes = new StringBuilder();
      for (Throwable cause = error; cause != null; cause = cause.getCause()) {
        causes.append(causes.length() == 0 ? "" : " <- ").append(cause);
        if (cause.getCause() == cause) break;
      }
      STDERR.println("TributaryOpenSearch failed: " + causes);
      STDERR.flush();
      // halt, not exit: a half-built node may hold non-daemon threads and
      // shutdown hooks that would block a plain exit.
      Runtime.getRuntime().halt(1);
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
      options.put(args[i].substring(2), args[i + 1]);
    }
    for (String required : new String[] {"base", "http-port", "node-name", "cluster-name", "log-config"}) {
      if (!options.containsKey(required)) throw new IllegalArgumentException("missing --" + required);
    }
    return options;
  }

  private static void run(Map<String, String> options) throws Exception {
    Path base = Paths.get(options.get("base")).toAbsolutePath();
    int httpPort = Integer.parseInt(options.get("http-port"));
    String nodeName = options.get("node-name");
    Path config = base.resolve("config");
    Files.createDirectories(config);
    // The runner copies its own log4j2.properties (INFO to the console and to
    // two files) only when the config dir has none; ours goes there first.
    Files.copy(Paths.get(options.get("log-config")), config.resolve("log4j2.properties"), StandardCopyOption.REPLACE_EXISTING);

    OpenSearchRunner runner = new OpenSearchRunner();
    // No port scanning: with a ceiling of -1 the runner takes baseHttpPort + 1
    // as it is, and http.port below overrides even that.
    runner.setMaxHttpPort(-1);
    runner.onBuild(
        (id, settings) -> {
          settings.put("node.name", nodeName);
          // One node that elects itself: no discovery, no cluster bootstrapping.
          settings.put("discovery.type", "single-node");
          settings.put("network.host", "127.0.0.1");
          // Exactly this port (0: one the OS picks); a taken port fails the
          // start with a BindHttpException instead of moving elsewhere.
          settings.put("http.port", Integer.toString(httpPort));
          // The transport layer is unused by one node but still binds: an
          // ephemeral port keeps parallel servers out of each other's 9300-9400.
          settings.put("transport.port", "0");
          settings.putList("node.roles", "cluster_manager", "data", "ingest");
          // A nearly full dev disk must not turn indices read-only (flood stage)
          // nor leave new shards unassigned (low watermark).
          settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
          // opensearch.log lands in the base dir, beside the data.
          settings.put("path.logs", base.toString());
        });

    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    runner.close();
                  } catch (IOException | RuntimeException error) {
                    error.printStackTrace(STDERR);
                  } finally {
                    closed.countDown();
                  }
                },
                "tributary-opensearch-shutdown"));

    List<String> buildArgs = new ArrayList<>(List.of(
        "-basePath", base.toString(),
        "-confPath", config.toString(),
        "-dataPath", base.resolve("data").toString(),
        "-logsPath", base.toString(),
        "-numOfNode", "1",
        // Only used for the runner's port arithmetic, which http.port overrides.
        "-baseHttpPort", Integer.toString(Math.max(0, httpPort - 1)),
        "-clusterName", options.get("cluster-name"),
        // Its progress lines (some about ports it does not use) go to the log file.
        "-useLogger"));
    if (options.containsKey("plugin-types")) buildArgs.addAll(List.of("-pluginTypes", options.get("plugin-types")));
    runner.build(buildArgs.toArray(new String[0]));

    Node node = runner.node();
    // One node has nowhere to put replicas: with none by default, new indices
    // and data streams are green, not forever yellow. Index creation reads this
    // default from the cluster state only (as a node setting it is ignored), so
    // it is set through the API; being persistent, it holds after a restart.
    node.client()
        .admin()
        .cluster()
        .prepareUpdateSettings()
        .setPersistentSettings(Settings.builder().put("cluster.default_number_of_replicas", 0))
        .get(TimeValue.timeValueSeconds(60));

    int bound = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress().getPort();
    if (httpPort != 0 && bound != httpPort) throw new IllegalStateException("HTTP bound to port " + bound + ", not the requested " + httpPort);
    STDOUT.println("TRIBUTARY_OPENSEARCH_HTTP_PORT=" + bound);
    STDOUT.flush();
    // The node's threads are non-daemon and keep the JVM alive; waiting here
    // only keeps main from returning before the shutdown hook has run.
    closed.await();
  }
}
