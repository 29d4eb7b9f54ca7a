/*
 * One standalone Solr 9 for development and tests, started by local-solr.ts.
 *
 *   java -Dsolr.log.dir=DIR -Dlog4j2.configurationFile=FILE \
 *        -cp <classpath of pom.xml>:<dir of this class> TributarySolr --home DIR --port P \
 *        [--keystore FILE.p12 --keystore-password-file FILE]
 *
 * Solr's own embedded Jetty (org.apache.solr.embedded.JettySolrRunner, from
 * solr-test-framework, the server its tests run) on 127.0.0.1, context /solr,
 * HTTP/1.1 only, serving the cores found under the solr home (core discovery:
 * <home>/<core>/core.properties and conf/). local-solr.ts lays the home out.
 *
 * Secured mode (--keystore): Jetty serves HTTPS only, with that PKCS12
 * keystore (its password read from a file, so it is not on the command line);
 * authentication and authorization come from <home>/security.json, which
 * standalone Solr reads at start like bin/solr's Solr does.
 *
 * Why a launcher: JettySolrRunner has no usable main for this (it takes a home
 * and a port but neither prints the port it bound nor fails when a core does
 * not load). Here a core that fails to load fails the start with its reason,
 * a failure prints its stack trace and exits 1, and the port actually bound is
 * printed so the caller can check it.
 *
 * The one line on stdout the caller reads:
 *   TRIBUTARY_SOLR_HTTP_PORT=<port>   every core is loaded, its update log replayed, and Solr serves HTTP (or HTTPS) there
 *
 * SIGTERM stops Jetty and closes the cores (commits nothing: what is not yet
 * committed is in the update log and replayed at the next start) and exits.
 */

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.solr.client.solrj.embedded.SSLConfig;
import org.apache.solr.core.CoreContainer;
import org.apache.solr.core.SolrCore;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;
import org.apache.solr.update.UpdateLog;

public final class TributarySolr {
  private static final PrintStream STDOUT = System.out;
  private static final PrintStream STDERR = System.err;

  private TributarySolr() {}

  public static void main(String[] args) {
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, error) -> {
          STDERR.println("uncaught in thread " + thread.getName() + ":");
          error.printStackTrace(STDERR);
          if (error instanceof Error) Runtime.getRuntime().halt(1);
        });
    try {
      run(parse(args));
    } catch (Throwable error) {
      STDERR.println("TributarySolr: Solr failed to start:");
      error.printStackTrace(STDERR);
      // The caller keeps only the tail of the output: end with the cause chain in one line.
      StringBuilder causes = new StringBuilder();
      for (Throwable cause = error; cause != null; cause = cause.getCause()) {
        causes.append(causes.length() == 0 ? "" : " <- ").append(cause);
        if (cause.getCause() == cause) break;
      }
      STDERR.println("TributarySolr failed: " + causes);
      STDERR.flush();
      // halt, not exit: a half-started Jetty holds non-daemon threads.
      Runtime.getRuntime().halt(1);
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
      options.put(args[i].substring(2), args[i + 1]);
    }
    for (String required : new String[] {"home", "port"}) {
      if (!options.containsKey(required)) throw new IllegalArgumentException("missing --" + required);
    }
    return options;
  }

  private static void run(Map<String, String> options) throws Exception {
    Path home = Paths.get(options.get("home")).toAbsolutePath();
    int port = Integer.parseInt(options.get("port"));
    JettyConfig.Builder builder = JettyConfig.builder();
    String keystore = options.get("keystore");
    if (keystore != null) {
      String passwordFile = options.get("keystore-password-file");
      if (passwordFile == null) throw new IllegalArgumentException("--keystore needs --keystore-password-file");
      String password = new String(Files.readAllBytes(Paths.get(passwordFile)), StandardCharsets.UTF_8).trim();
      // HTTPS only, no client certificates asked for; no truststore: clients authenticate by security.json.
      builder.withSSLConfig(new SSLConfig(true, false, keystore, password, null, null));
    }
    JettyConfig config =
        builder
            .setPort(port)
            .setContext("/solr")
            .useOnlyHttp1(true)
            // We stop it in our own hook, after which main may return.
            .stopAtShutdown(false)
            // start() returns only once every core has loaded (or failed to).
            .waitForLoadingCoresToFinish(120_000L)
            .build();
    JettySolrRunner runner = new JettySolrRunner(home.toString(), new Properties(), config);

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    if (runner.isRunning()) runner.stop();
                  } catch (Exception error) {
                    error.printStackTrace(STDERR);
                  } finally {
                    stopped.countDown();
                  }
                },
                "tributary-solr-shutdown"));

    // false: no port retries; a taken port fails the start with a BindException.
    runner.start(false);
    CoreContainer cores = runner.getCoreContainer();
    if (cores == null) throw new IllegalStateException("Solr started without a core container (see solr.log)");
    if (!cores.getCoreInitFailures().isEmpty()) {
      StringBuilder failures = new StringBuilder();
      cores.getCoreInitFailures().forEach((name, failure) -> failures.append(failures.length() == 0 ? "" : "; ").append(name).append(": ").append(failure.exception));
      throw new IllegalStateException("cores failed to load: " + failures);
    }
    // After a crash, each core replays the updates its update log holds beyond the last commit (in the
    // background, after the core has loaded); until that is done a query misses acknowledged documents.
    long replayDeadline = System.nanoTime() + 120_000_000_000L;
    for (SolrCore core : cores.getCores()) {
      UpdateLog log = core.getUpdateHandler().getUpdateLog();
      while (log != null && log.getState() != UpdateLog.State.ACTIVE) {
        if (System.nanoTime() > replayDeadline) throw new IllegalStateException("core " + core.getName() + " still " + log.getState() + " its update log");
        Thread.sleep(50);
      }
    }
    int bound = runner.getLocalPort();
    if (port != 0 && bound != port) throw new IllegalStateException("HTTP bound to port " + bound + ", not the requested " + port);
    STDOUT.println("TRIBUTARY_SOLR_HTTP_PORT=" + bound);
    STDOUT.flush();
    stopped.await();
  }
}
