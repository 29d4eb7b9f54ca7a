/**
 * Runs a local Solr 9 until interrupted:
 *
 *   node dist/deploy/dev/solr/cli.js [--port N] [--heap-mb N] [--solr-version V] [--cores a,b]
 *
 * Prints exactly one line on stdout, `SOLR_URL=http://127.0.0.1:PORT/solr`,
 * once every core answers queries, so a script can `read` it or `eval` it;
 * everything else (progress, server warnings) goes to stderr. SIGINT/SIGTERM
 * stop the server, remove its temp dir and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalSolr, type LocalSolrOptions } from './local-solr.js';

runDevServerCli({
  name: 'Solr',
  usage: 'usage: cli.js [--port N] [--heap-mb N] [--solr-version V] [--cores a,b] (default core: tributary)',
  options: ['port', 'heap-mb', 'solr-version', 'cores'],
  parse: (values): LocalSolrOptions => ({
    port: intOption('port', values.port, 0, 65_535),
    // 256 MiB starts and indexes; 512 (the default) leaves room for bulk updates.
    heapMb: intOption('heap-mb', values['heap-mb'], 256, 65_536),
    solrVersion: values['solr-version'],
    cores: values.cores?.split(',').filter((core) => core !== ''),
  }),
  describe: (options) => `Solr ${options.solrVersion ?? process.env.SOLR_VERSION ?? '9.10.1'}`,
  start: (options, onLog) => startLocalSolr({ ...options, onLog }),
  readyLine: (solr) => `SOLR_URL=${solr.url}`,
});
